-- CreateTable
CREATE TABLE "access_request_studies" (
    "access_request_id" TEXT NOT NULL,
    "study_instance_uid" TEXT NOT NULL,
    "patient_id" TEXT NOT NULL,
    "modalities" TEXT[],
    "study_date" TEXT,
    "description" TEXT,
    "confirmed_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "access_request_studies_pkey" PRIMARY KEY ("access_request_id","study_instance_uid")
);

-- CreateIndex
CREATE INDEX "access_request_studies_study_instance_uid_idx" ON "access_request_studies"("study_instance_uid");

-- AddForeignKey
ALTER TABLE "access_request_studies" ADD CONSTRAINT "access_request_studies_access_request_id_fkey" FOREIGN KEY ("access_request_id") REFERENCES "access_requests"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
