import { fileURLToPath } from 'node:url';

/**
 * Where the workflow code lives, for the worker that runs it and the auditors' replay that
 * checks it. Not part of the workflow bundle (index.ts does not import it).
 */
export const WORKFLOWS_PATH = fileURLToPath(new URL('./index.ts', import.meta.url));
