import type { Db } from './client.js';

export const DEMO_DEPARTMENTS = [
  { id: 'radiology', name: 'Radiology' },
  { id: 'cardiology', name: 'Cardiology' },
];

export const DEMO_USERS = [
  { username: 'clin.alice', displayName: 'Alice (clinician, radiology)', roles: ['clinician'], departmentId: 'radiology', reviewsFor: [] },
  { username: 'clin.bob', displayName: 'Bob (clinician, cardiology)', roles: ['clinician'], departmentId: 'cardiology', reviewsFor: [] },
  { username: 'sup.carol', displayName: 'Carol (supervisor)', roles: ['supervisor'], departmentId: 'radiology', reviewsFor: ['radiology', 'cardiology'] },
  { username: 'sup.erin', displayName: 'Erin (supervisor)', roles: ['supervisor'], departmentId: 'radiology', reviewsFor: ['radiology'] },
  { username: 'priv.dave', displayName: 'Dave (privacy officer)', roles: ['privacy_officer'], departmentId: null, reviewsFor: [] },
  { username: 'aud.frank', displayName: 'Frank (auditor)', roles: ['auditor'], departmentId: null, reviewsFor: [] },
  { username: 'sec.grace', displayName: 'Grace (security officer)', roles: ['security_officer'], departmentId: null, reviewsFor: [] },
] as const;

/** Idempotent: safe on every start. */
export async function seedDemoDirectory(db: Db): Promise<void> {
  for (const department of DEMO_DEPARTMENTS) {
    await db.department.upsert({ where: { id: department.id }, create: department, update: { name: department.name } });
  }
  for (const user of DEMO_USERS) {
    const data = { displayName: user.displayName, roles: [...user.roles], departmentId: user.departmentId };
    await db.user.upsert({ where: { username: user.username }, create: { username: user.username, ...data }, update: data });
    for (const departmentId of user.reviewsFor) {
      await db.reviewerDepartment.upsert({
        where: { username_departmentId: { username: user.username, departmentId } },
        create: { username: user.username, departmentId },
        update: {},
      });
    }
  }
}
