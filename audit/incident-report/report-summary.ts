import type { IncidentReport } from '../../contracts/incident.js';

// The report's headline counts, computed once from the accesses and grants so that the HTML
// and the PDF cannot disagree about them.

export interface ReportSummary {
  served: number;
  refused: number;
  /** Distinct recorded usernames; an access without a username (a refused anonymous request) counts none. */
  distinctUsers: number;
  grants: number;
  breakGlass: number;
}

export function summarizeReport(report: IncidentReport): ReportSummary {
  let served = 0;
  let refused = 0;
  let breakGlass = 0;
  const users = new Set<string>();
  for (const access of report.accesses) {
    if (access.outcome === 'served') served++;
    else refused++;
    if (access.breakGlass) breakGlass++;
    if (access.username !== null) users.add(access.username);
  }
  return { served, refused, distinctUsers: users.size, grants: report.grants.length, breakGlass };
}
