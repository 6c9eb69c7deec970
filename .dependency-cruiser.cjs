// The house plan as a check: which folder may import which. The README's "Layout" says the
// same in words; `npm run lint` fails when an import goes against it.

/** Each folder and the project folders it may import (besides itself). */
const PLAN = {
  domain: [],
  contracts: ['domain'],
  config: ['domain', 'contracts'],
  db: ['domain', 'contracts', 'generated'],
  pacs: ['contracts'],
  // Marks that tie a served image to its serving: written by the gateway, read by the API.
  tracing: ['contracts'],
  tokens: ['domain', 'contracts', 'db'],
  audit: ['domain', 'contracts', 'config', 'db', 'generated', 'tokens', 'workflows'],
  activities: ['domain', 'contracts', 'db', 'generated', 'tokens', 'pacs', 'audit'],
  workflows: ['domain', 'contracts', 'activities'],
  api: ['domain', 'contracts', 'config', 'db', 'generated', 'tokens', 'pacs', 'tracing', 'audit', 'workflows'],
  gateway: ['domain', 'contracts', 'config', 'db', 'pacs', 'tracing'],
  worker: ['domain', 'contracts', 'config', 'db', 'tokens', 'pacs', 'audit', 'activities', 'workflows'],
  // The browser's code: the wire shapes, and the domain's vocabulary (statuses, purposes, roles).
  web: ['domain', 'contracts'],
};
const FOLDERS = [...Object.keys(PLAN), 'generated', 'scripts', 'test'];

const folderRules = Object.entries(PLAN).map(([folder, allowed]) => ({
  name: `plan-${folder}`,
  comment: `${folder}/ may import only ${allowed.length ? allowed.join(', ') : 'libraries'} (README, Layout)`,
  severity: 'error',
  from: { path: `^${folder}/` },
  to: { path: `^(${FOLDERS.join('|')})/`, pathNot: `^(${[folder, ...allowed].join('|')})/` },
}));

module.exports = {
  forbidden: [
    ...folderRules,
    {
      name: 'workflows-use-activity-types-only',
      comment: 'The workflow bundle must not pull in activity code: proxyActivities<typeof …> needs only the types.',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'audit-uses-only-the-workflow-location',
      comment: "The auditors' replay runs the workflow code from its path; audit/ imports nothing else of workflows/.",
      severity: 'error',
      from: { path: '^audit/' },
      to: { path: '^workflows/', pathNot: '^workflows/location\\.ts$' },
    },
    {
      name: 'workflow-code-is-deterministic',
      comment: 'Workflow code runs in the sandbox: no Node built-ins (location.ts is outside the bundle).',
      severity: 'error',
      from: { path: '^(workflows|domain|contracts)/', pathNot: '^workflows/location\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'audit-config-only-in-its-cli',
      comment: "Only the auditors' CLI (a process of its own) reads configuration; the rest of audit/ is handed what it needs.",
      severity: 'error',
      from: { path: '^audit/', pathNot: '^audit/cli\\.ts$' },
      to: { path: '^config/' },
    },
    {
      name: 'audit-formats-stand-alone',
      comment: 'Formats turn facts into messages; they read nothing and send nothing.',
      severity: 'error',
      from: { path: '^audit/formats/' },
      to: { path: '^audit/(read|forwarding|evidence)/' },
    },
    {
      name: 'audit-incident-report-renders-only',
      comment: 'The report renderers turn a report into HTML or PDF; they read nothing and send nothing.',
      severity: 'error',
      from: { path: '^audit/incident-report/' },
      to: { path: '^(audit/(read|forwarding|evidence|formats)|db|tokens|generated)/' },
    },
    {
      name: 'audit-read-reads-only',
      severity: 'error',
      from: { path: '^audit/read/' },
      to: { path: '^audit/(forwarding|evidence)/' },
    },
    {
      name: 'audit-forwarding-apart-from-evidence',
      severity: 'error',
      from: { path: '^audit/(forwarding)/' },
      to: { path: '^audit/(evidence|read)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|generated|test/histories|web/dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.tsx', '.js'] },
  },
};
