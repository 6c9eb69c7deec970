export { accessRequestWorkflow } from './access-request.js';
