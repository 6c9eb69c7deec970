import { syntheticStudy, type SyntheticStudy } from '../../scripts/lib/synthetic-studies.js';

// The studies the e2e run's shared PACS holds (test/support/global-setup.ts). Every API a
// test starts confirms submissions against it, so a test submits only these.

export const STUDY_A = '1.2.826.0.1.3680043.8.498.10001';
export const STUDY_B = '1.2.826.0.1.3680043.8.498.10002';
/** Held under SYN-0002. */
export const STUDY_OF_SYN_0002 = '1.2.826.0.1.3680043.8.498.10003';
/** Held twice: under SYN-0001 and under SYN-0002. */
export const STUDY_HELD_TWICE = '1.2.826.0.1.3680043.8.498.10009';
/** Held by no PACS. */
export const STUDY_UNKNOWN = '1.2.826.0.1.3680043.8.498.19999';

export const PACS_STUDIES: SyntheticStudy[] = [
  syntheticStudy(STUDY_A, 'SYN-0001', { modality: 'CT', description: 'Synthetic CT wrist', studyDate: '20240115' }),
  syntheticStudy(STUDY_B, 'SYN-0001', { modality: 'CR', description: 'Synthetic radiograph wrist', studyDate: '20240116' }),
  syntheticStudy(STUDY_OF_SYN_0002, 'SYN-0002', { modality: 'MR', description: 'Synthetic MR knee', studyDate: '20240201' }),
  syntheticStudy(STUDY_HELD_TWICE, 'SYN-0001'),
];

export const TWICE_HELD_STUDY: [SyntheticStudy, SyntheticStudy] = [PACS_STUDIES[3]!, syntheticStudy(STUDY_HELD_TWICE, 'SYN-0002')];
