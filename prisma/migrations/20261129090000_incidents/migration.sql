-- Incidents, their clocks, the notifier's outbox and the leaked files traced for them.
CREATE TABLE "incidents" (
    "id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "origin_kind" TEXT NOT NULL,
    "origin_request_id" TEXT,
    "origin_outcome" TEXT,
    "declared_by" TEXT NOT NULL,
    "declared_at" TIMESTAMPTZ(3) NOT NULL,
    "scope_patients" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "scope_studies" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "scope_users" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "window_from" TIMESTAMPTZ(3) NOT NULL,
    "workflow_run_id" TEXT NOT NULL,
    "team" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "contained_at" TIMESTAMPTZ(3),
    "freeze_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "sign_off_by" TEXT,
    "sign_off_roles" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "sign_off_comment" TEXT,
    "sign_off_at" TIMESTAMPTZ(3),
    "closed_at" TIMESTAMPTZ(3),
    "closed_by" TEXT[] DEFAULT ARRAY[]::TEXT[],

    CONSTRAINT "incidents_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "incidents_origin_check" CHECK (("origin_kind" = 'declared' AND "origin_request_id" IS NULL) OR ("origin_kind" = 'break-glass' AND "origin_request_id" IS NOT NULL))
);
CREATE UNIQUE INDEX "incidents_origin_request_id_key" ON "incidents"("origin_request_id");
CREATE INDEX "incidents_declared_at_idx" ON "incidents"("declared_at");

CREATE TABLE "incident_clocks" (
    "incident_id" TEXT NOT NULL,
    "clock" TEXT NOT NULL,
    "due_at" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL,
    "done_at" TIMESTAMPTZ(3),
    "reminders_sent" INTEGER NOT NULL DEFAULT 0,
    "escalated_at" TIMESTAMPTZ(3),

    CONSTRAINT "incident_clocks_pkey" PRIMARY KEY ("incident_id","clock"),
    CONSTRAINT "incident_clocks_status_check" CHECK ("status" IN ('RUNNING', 'MET', 'MISSED', 'NOT_NEEDED'))
);
ALTER TABLE "incident_clocks" ADD CONSTRAINT "incident_clocks_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incidents"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "incident_notifications" (
    "id" TEXT NOT NULL,
    "incident_id" TEXT NOT NULL,
    "audience" TEXT NOT NULL,
    "recipient" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "transport" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "sent_at" TIMESTAMPTZ(3),
    "smtp_message_id" TEXT,
    "last_error" TEXT,

    CONSTRAINT "incident_notifications_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "incident_notifications_status_check" CHECK ("status" IN ('QUEUED', 'SENT', 'FAILED'))
);
CREATE INDEX "incident_notifications_incident_id_created_at_idx" ON "incident_notifications"("incident_id", "created_at");
CREATE INDEX "incident_notifications_status_channel_idx" ON "incident_notifications"("status", "channel");
ALTER TABLE "incident_notifications" ADD CONSTRAINT "incident_notifications_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incidents"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE TABLE "incident_traces" (
    "id" TEXT NOT NULL,
    "incident_id" TEXT NOT NULL,
    "file_sha256" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "matched_serving_id" TEXT,
    "result" JSONB NOT NULL,
    "traced_by" TEXT NOT NULL,
    "traced_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "incident_traces_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "incident_traces_incident_id_traced_at_idx" ON "incident_traces"("incident_id", "traced_at");
ALTER TABLE "incident_traces" ADD CONSTRAINT "incident_traces_incident_id_fkey" FOREIGN KEY ("incident_id") REFERENCES "incidents"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
