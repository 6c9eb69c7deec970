export { accessRequestWorkflow } from './access-request.js';
export { auditCheckpointWorkflow, auditForwardingWorkflow, historyArchiveWorkflow } from './background-work.js';
export { freezeWorkflow } from './freeze.js';
export { incidentWorkflow } from './incident.js';
