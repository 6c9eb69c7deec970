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

/** The accession number a synthetic study is filed under: ACC and the UID's last component. */
export function accessionNumberOf(study: Pick<SyntheticStudy, 'studyInstanceUid'>): string {
  return `ACC${study.studyInstanceUid.split('.').pop()}`;
}

const SIZE = 256;

/** Hounsfield units of the CT phantom's regions, far enough apart that each window preset shows them differently. */
const PHANTOM_HU = { air: -1000, lung: -800, softTissue: 40, bone: 700, table: 0 } as const;

/**
 * The CT phantom's geometry (pixel coordinates of a 256×256 slice), so tests can sample a
 * region: a body of soft tissue in air, two lungs in its upper half, a vertebra below them
 * whose size varies per instance, and a table across the bottom rows, where the gateway
 * burns in its watermark: grey in every window, so the band shows against it.
 */
export const CT_PHANTOM = {
  size: SIZE,
  body: { cx: 128, cy: 120, rx: 112, ry: 92 },
  lungs: [
    { cx: 84, cy: 100, rx: 30, ry: 46 },
    { cx: 172, cy: 100, rx: 30, ry: 46 },
  ],
  bone: { cx: 128, cy: 172, radius: (seed: number) => 10 + (seed % 7) * 2 },
  tableTop: 224,
} as const;

const inEllipse = (x: number, y: number, e: { cx: number; cy: number; rx: number; ry: number }) => ((x - e.cx) / e.rx) ** 2 + ((y - e.cy) / e.ry) ** 2 < 1;

/** The Hounsfield value of one pixel of the CT phantom. */
function ctPhantomHu(x: number, y: number, seed: number): number {
  const { body, lungs, bone, tableTop } = CT_PHANTOM;
  if (y >= tableTop) return PHANTOM_HU.table;
  if (!inEllipse(x, y, body)) return PHANTOM_HU.air;
  if ((x - bone.cx) ** 2 + (y - bone.cy) ** 2 < bone.radius(seed) ** 2) return PHANTOM_HU.bone;
  if (lungs.some((lung) => inEllipse(x, y, lung))) return PHANTOM_HU.lung;
  // Soft tissue with a gentle slope (30–50 HU), so a narrow window still shows some texture.
  return PHANTOM_HU.softTissue - 10 + Math.floor((x * 20) / SIZE);
}

/** CT stored values are HU − RescaleIntercept (RescaleSlope 1). */
const CT_RESCALE_INTERCEPT = -1024;

/**
 * A 16-bit grey PNG of the CT phantom's stored values, which Orthanc turns into 16-bit
 * MONOCHROME2: the DICOMweb plugin applies `window` to grey-scale images only (an RGB image
 * is rendered unwindowed, silently).
 */
async function ctPhantomPng(seed: number): Promise<Buffer> {
  const stored = new Uint16Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) stored[y * SIZE + x] = ctPhantomHu(x, y, seed) - CT_RESCALE_INTERCEPT;
  // The typed array itself: a Buffer over its bytes would be read as 8-bit samples.
  return sharp(stored, { raw: { width: SIZE, height: SIZE, channels: 1 } })
    .toColourspace('grey16')
    .png()
    .toBuffer();
}

/** An 8-bit grey phantom for the other modalities (no Hounsfield scale): a gradient with a disc whose size varies per instance. */
async function greyPhantomPng(seed: number): Promise<Buffer> {
  const pixels = Buffer.alloc(SIZE * SIZE);
  const radius = 40 + (seed % 7) * 10;
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const inside = (x - 128) ** 2 + (y - 128) ** 2 < radius ** 2;
      pixels[y * SIZE + x] = inside ? 230 : Math.floor((x + y) / 4);
    }
  }
  return sharp(pixels, { raw: { width: SIZE, height: SIZE, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** The pixels and the modality-specific tags of one synthetic instance. */
async function syntheticImage(modality: string, seed: number): Promise<{ png: Buffer; tags: Record<string, string> }> {
  if (modality === 'CT') {
    return {
      png: await ctPhantomPng(seed),
      tags: {
        SOPClassUID: '1.2.840.10008.5.1.4.1.1.2', // CT Image Storage
        RescaleIntercept: String(CT_RESCALE_INTERCEPT),
        RescaleSlope: '1',
        WindowCenter: '40',
        WindowWidth: '400',
      },
    };
  }
  return { png: await greyPhantomPng(seed), tags: { SOPClassUID: '1.2.840.10008.5.1.4.1.1.7' } }; // Secondary Capture
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
        const { png, tags } = await syntheticImage(study.modality, seed++);
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
              AccessionNumber: accessionNumberOf(study),
              SeriesInstanceUID: series.seriesInstanceUid,
              SeriesNumber: String(r + 1),
              SeriesDescription: `${study.description}, series ${r + 1}`,
              Modality: study.modality,
              SOPInstanceUID: sop,
              InstanceNumber: String(i + 1),
              ...tags,
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
