import sharp from 'sharp';

// Synthetic studies for the demo and the tests: made-up patients, several series and
// instances, real pixel data. No real patient data anywhere.

export const UID_ROOT = '1.2.826.0.1.3680043.8.498';

export interface SyntheticStudy {
  studyInstanceUid: string;
  patientId: string;
  patientName: string;
  modality: string;
  description: string;
  /** DICOM date (YYYYMMDD). */
  studyDate?: string;
  series: { seriesInstanceUid: string; instances: string[] }[];
}

const PLAN = [
  { patientId: 'SYN-0001', patientName: 'SYNTHETIC^ALICE', modality: 'CT', description: 'Synthetic CT chest', studyDate: '20240115' },
  { patientId: 'SYN-0001', patientName: 'SYNTHETIC^ALICE', modality: 'CR', description: 'Synthetic chest radiograph', studyDate: '20240302' },
  { patientId: 'SYN-0002', patientName: 'SYNTHETIC^BOB', modality: 'MR', description: 'Synthetic MR knee', studyDate: '20240521' },
];
const SERIES_PER_STUDY = 2;
const INSTANCES_PER_SERIES = 3;

/** The catalogue, with deterministic UIDs so demos and tests can name them. */
export function syntheticStudies(): SyntheticStudy[] {
  return PLAN.map((p, s) => {
    const study = `${UID_ROOT}.${s + 1}`;
    return {
      ...p,
      studyInstanceUid: study,
      series: Array.from({ length: SERIES_PER_STUDY }, (_, r) => ({
        seriesInstanceUid: `${study}.${r + 1}`,
        instances: Array.from({ length: INSTANCES_PER_SERIES }, (_, i) => `${study}.${r + 1}.${i + 1}`),
      })),
    };
  });
}

/**
 * A small study (one series of one instance) with a UID and patient of the caller's choosing,
 * for tests that need the PACS to hold particular studies.
 */
export function syntheticStudy(
  studyInstanceUid: string,
  patientId: string,
  options: { modality?: string; description?: string; patientName?: string; studyDate?: string } = {},
): SyntheticStudy {
  return {
    studyInstanceUid,
    patientId,
    studyDate: options.studyDate ?? '20240115',
    patientName: options.patientName ?? `SYNTHETIC^${patientId.replace(/[^A-Z0-9]/gi, '')}`,
    modality: options.modality ?? 'CT',
    description: options.description ?? `Synthetic study of ${patientId}`,
    series: [{ seriesInstanceUid: `${studyInstanceUid}.1`, instances: [`${studyInstanceUid}.1.1`] }],
  };
}

/** A 256×256 8-bit phantom: a gradient with a disc whose size varies per instance. */
async function phantomPng(seed: number): Promise<Buffer> {
  const size = 256;
  const pixels = Buffer.alloc(size * size);
  const radius = 40 + (seed % 7) * 10;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const inside = (x - 128) ** 2 + (y - 128) ** 2 < radius ** 2;
      pixels[y * size + x] = inside ? 230 : Math.floor((x + y) / 4);
    }
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 1 } })
    .png()
    .toBuffer();
}

/**
 * Loads the catalogue (or `studies`) into Orthanc over its REST API; skips a study UID already
 * there unless `always` (which can put the same study UID under a second patient).
 */
export async function loadSyntheticStudies(
  orthanc: { restUrl: string; username: string; password: string },
  studies: SyntheticStudy[] = syntheticStudies(),
  options: { always?: boolean } = {},
): Promise<SyntheticStudy[]> {
  const authorization = `Basic ${Buffer.from(`${orthanc.username}:${orthanc.password}`).toString('base64')}`;
  for (const study of studies) {
    const lookup = options.always
      ? undefined
      : await fetch(`${orthanc.restUrl}/tools/lookup`, { method: 'POST', headers: { authorization }, body: study.studyInstanceUid });
    if (lookup?.ok && ((await lookup.json()) as unknown[]).length > 0) continue;
    let seed = 0;
    for (const [r, series] of study.series.entries()) {
      for (const [i, sop] of series.instances.entries()) {
        const png = await phantomPng(seed++);
        const response = await fetch(`${orthanc.restUrl}/tools/create-dicom`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify({
            Force: true,
            Tags: {
              PatientID: study.patientId,
              PatientName: study.patientName,
              StudyInstanceUID: study.studyInstanceUid,
              StudyDescription: study.description,
              ...(study.studyDate ? { StudyDate: study.studyDate } : {}),
              AccessionNumber: `ACC${study.studyInstanceUid.split('.').pop()}`,
              SeriesInstanceUID: series.seriesInstanceUid,
              SeriesNumber: String(r + 1),
              SeriesDescription: `${study.description}, series ${r + 1}`,
              Modality: study.modality,
              SOPInstanceUID: sop,
              SOPClassUID: '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture
              InstanceNumber: String(i + 1),
            },
            Content: `data:image/png;base64,${png.toString('base64')}`,
          }),
        });
        if (!response.ok) throw new Error(`Orthanc refused synthetic instance ${sop}: ${response.status} ${await response.text()}`);
      }
    }
  }
  return studies;
}
