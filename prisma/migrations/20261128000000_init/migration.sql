-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "departments" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "departments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "username" TEXT NOT NULL,
    "display_name" TEXT NOT NULL,
    "roles" TEXT[],
    "department_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("username")
);

-- CreateTable
CREATE TABLE "reviewer_departments" (
    "username" TEXT NOT NULL,
    "department_id" TEXT NOT NULL,

    CONSTRAINT "reviewer_departments_pkey" PRIMARY KEY ("username","department_id")
);

-- CreateTable
CREATE TABLE "access_requests" (
    "id" TEXT NOT NULL,
    "requester" TEXT NOT NULL,
    "requester_role" TEXT NOT NULL,
    "department_id" TEXT NOT NULL,
    "study_instance_uids" TEXT[],
    "patient_id" TEXT NOT NULL,
    "purpose_of_use" TEXT NOT NULL,
    "justification" TEXT NOT NULL,
    "duration_minutes" INTEGER NOT NULL,
    "request_hash" TEXT NOT NULL,
    "idempotency_key" TEXT,
    "status" TEXT NOT NULL,
    "submitted_at" TIMESTAMPTZ(3) NOT NULL,
    "review_deadline" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),
    "end_reason" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "access_requests_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reviews" (
    "id" TEXT NOT NULL,
    "access_request_id" TEXT NOT NULL,
    "reviewer" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "comment" TEXT,
    "counted_toward" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "reviewed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "reviews_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rejected_review_attempts" (
    "id" TEXT NOT NULL,
    "access_request_id" TEXT NOT NULL,
    "reviewer" TEXT NOT NULL,
    "decision" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" TEXT NOT NULL,
    "attempted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "rejected_review_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "grants" (
    "access_request_id" TEXT NOT NULL,
    "grantee" TEXT NOT NULL,
    "study_instance_uids" TEXT[],
    "approvers" TEXT[],
    "activated_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "ended_at" TIMESTAMPTZ(3),

    CONSTRAINT "grants_pkey" PRIMARY KEY ("access_request_id")
);

-- CreateTable
CREATE TABLE "issued_tokens" (
    "jti" TEXT NOT NULL,
    "access_request_id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "kid" TEXT NOT NULL,
    "issued_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "issued_tokens_pkey" PRIMARY KEY ("jti")
);

-- CreateTable
CREATE TABLE "revocations" (
    "id" TEXT NOT NULL,
    "access_request_id" TEXT NOT NULL,
    "revoked_by" TEXT NOT NULL,
    "revoked_by_role" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "revoked_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "revocations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "signing_keys" (
    "kid" TEXT NOT NULL,
    "alg" TEXT NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "sealed_private_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "retired_at" TIMESTAMPTZ(3),
    "unpublish_after" TIMESTAMPTZ(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("kid")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "seq" BIGSERIAL NOT NULL,
    "id" TEXT NOT NULL,
    "dedupe_key" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "access_request_id" TEXT,
    "payload" JSONB NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("seq")
);

-- CreateTable
CREATE TABLE "audit_chain_head" (
    "id" INTEGER NOT NULL,
    "head_hash" TEXT NOT NULL,
    "head_seq" BIGINT NOT NULL,

    CONSTRAINT "audit_chain_head_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "access_requests_requester_submitted_at_idx" ON "access_requests"("requester", "submitted_at");

-- CreateIndex
CREATE INDEX "access_requests_status_department_id_idx" ON "access_requests"("status", "department_id");

-- CreateIndex
CREATE UNIQUE INDEX "access_requests_requester_idempotency_key_key" ON "access_requests"("requester", "idempotency_key");

-- CreateIndex
CREATE UNIQUE INDEX "reviews_access_request_id_reviewer_key" ON "reviews"("access_request_id", "reviewer");

-- CreateIndex
CREATE INDEX "rejected_review_attempts_access_request_id_idx" ON "rejected_review_attempts"("access_request_id");

-- CreateIndex
CREATE INDEX "issued_tokens_subject_issued_at_idx" ON "issued_tokens"("subject", "issued_at");

-- CreateIndex
CREATE INDEX "issued_tokens_access_request_id_idx" ON "issued_tokens"("access_request_id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_id_key" ON "audit_events"("id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_dedupe_key_key" ON "audit_events"("dedupe_key");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_hash_key" ON "audit_events"("hash");

-- CreateIndex
CREATE INDEX "audit_events_access_request_id_seq_idx" ON "audit_events"("access_request_id", "seq");

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_department_id_fkey" FOREIGN KEY ("department_id") REFERENCES "departments"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reviewer_departments" ADD CONSTRAINT "reviewer_departments_username_fkey" FOREIGN KEY ("username") REFERENCES "users"("username") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reviewer_departments" ADD CONSTRAINT "reviewer_departments_department_id_fkey" FOREIGN KEY ("department_id") REFERENCES "departments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_access_request_id_fkey" FOREIGN KEY ("access_request_id") REFERENCES "access_requests"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "rejected_review_attempts" ADD CONSTRAINT "rejected_review_attempts_access_request_id_fkey" FOREIGN KEY ("access_request_id") REFERENCES "access_requests"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "grants" ADD CONSTRAINT "grants_access_request_id_fkey" FOREIGN KEY ("access_request_id") REFERENCES "access_requests"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "issued_tokens" ADD CONSTRAINT "issued_tokens_access_request_id_fkey" FOREIGN KEY ("access_request_id") REFERENCES "access_requests"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "revocations" ADD CONSTRAINT "revocations_access_request_id_fkey" FOREIGN KEY ("access_request_id") REFERENCES "access_requests"("id") ON DELETE RESTRICT ON UPDATE CASCADE;


-- The chain starts from a fixed genesis hash.
INSERT INTO "audit_chain_head" ("id", "head_hash", "head_seq") VALUES (1, repeat('0', 64), 0);

-- Append-only: the application never updates or deletes an audit event.
-- Prisma's driver-adapter migrator splits on every semicolon, even inside quotes, so the
-- body's one semicolon is written as the escape \073.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS
  E'BEGIN RAISE EXCEPTION ''audit_events is append-only''\073 END';

CREATE TRIGGER audit_events_no_update_or_delete
  BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
