-- CreateTable
CREATE TABLE "case_history_archives" (
    "access_request_id" TEXT NOT NULL,
    "run_id" TEXT NOT NULL,
    "closed_at" TIMESTAMPTZ(3) NOT NULL,
    "history" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "event_count" INTEGER NOT NULL,
    "archived_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "case_history_archives_pkey" PRIMARY KEY ("access_request_id")
);

