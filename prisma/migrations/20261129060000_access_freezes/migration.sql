-- CreateTable
CREATE TABLE "access_freezes" (
    "id" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "value" TEXT,
    "reason" TEXT NOT NULL,
    "frozen_by" TEXT NOT NULL,
    "frozen_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_grants" INTEGER NOT NULL DEFAULT 0,
    "workflow_run_id" TEXT NOT NULL,
    "lift_requested_by" TEXT,
    "lift_requested_roles" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "lift_reason" TEXT,
    "lift_requested_at" TIMESTAMPTZ(3),
    "lifted_at" TIMESTAMPTZ(3),
    "lifted_by" TEXT[] DEFAULT ARRAY[]::TEXT[],

    CONSTRAINT "access_freezes_pkey" PRIMARY KEY ("id"),
    -- A scope the code does not know must never be read as "matches nothing".
    CONSTRAINT "access_freezes_scope_check" CHECK ("scope" IN ('patient', 'study', 'user', 'department', 'all')),
    CONSTRAINT "access_freezes_value_check" CHECK (("scope" = 'all') = ("value" IS NULL))
);

-- CreateIndex
CREATE INDEX "access_freezes_lifted_at_idx" ON "access_freezes"("lifted_at");
