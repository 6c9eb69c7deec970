import { z } from 'zod';

// A study as the PACS files it, from a clinician's lookup by accession number (GET /api/studies).

export const foundStudySchema = z.object({
  studyInstanceUid: z.string(),
  patientId: z.string().nullable(),
  modalities: z.array(z.string()),
  studyDate: z.string().nullable(),
  description: z.string().nullable(),
});
export type FoundStudy = z.infer<typeof foundStudySchema>;

export const studyLookupSchema = z.object({ items: z.array(foundStudySchema) });
export type StudyLookup = z.infer<typeof studyLookupSchema>;
