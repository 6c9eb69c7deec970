// npm run audit -- <command>: the auditors' tools. Read-only, except `export`, which signs.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { JWK } from 'jose';
import { loadAuditCliConfig, loadAuditSigningConfig } from '../config/audit-cli-config.js';
import { ConfigError } from '../config/env-pieces.js';
import { createDb, type Db } from '../db/client.js';
import { SigningKeyStore } from '../tokens/signing-keys.js';
import { caseTimeline, loadHistory } from './read/case-timeline.js';
import { exportEvidenceBundle, verifyEvidenceBundle, type SignedEvidenceBundle } from './evidence/evidence-bundle.js';
import { installQuietReplayRuntime, replayCase } from './evidence/replay-case.js';
import { whoAccessed } from './read/who-accessed.js';
import { exportIncidentBundle, INCIDENT_BUNDLE_FORMAT, verifyIncidentBundle, type SignedIncidentBundle } from './evidence/incident-bundle.js';
import { INCIDENT_ID_PATTERN } from '../contracts/incident.js';

const HELP = `Usage: npm run audit -- <command> [options]

  replay <caseId | history.json>     Run today's workflow code over a case's recorded history
                                     and report whether it reproduces the recorded decisions.
  timeline <caseId> [--json]         The case in time order: workflow, records, image accesses.
  export <caseId | incidentId> [--out FILE]
                                     A signed evidence bundle of a case or an incident
                                     (needs KEY_ENCRYPTION_KEY[_FILE]).
  verify <bundle.json> --keys <jwks.json | URL>
                                     Check a bundle offline against the published audit keys
                                     (the API's /.well-known/audit-keys.json).
  who-accessed --study <uid> | --patient <id> [--from ISO] [--to ISO] [--json]
                                     Every image access under any grant, served or refused.

Environment: DATABASE_URL, TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE.
Exit status: 0 when everything checked out, 1 when a check failed, 2 on bad usage.
`;

function usage(message: string): never {
  process.stderr.write(`${message}\n\n${HELP}`);
  process.exit(2);
}

/** The CLI's settings; a bad one is a usage error (exit 2), named. */
function settings<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) usage(error.message);
    throw error;
  }
}

function database(): Db {
  return createDb(settings(loadAuditCliConfig).databaseUrl, { maxConnections: 2 });
}

async function temporalClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const { temporal } = settings(loadAuditCliConfig);
  const connection = await Connection.connect({ address: temporal.address });
  return { client: new Client({ connection, namespace: temporal.namespace }), close: () => connection.close() };
}

async function loadKeys(source: string): Promise<{ keys: JWK[] }> {
  if (/^https?:\/\//.test(source)) return (await (await fetch(source)).json()) as { keys: JWK[] };
  return JSON.parse(readFileSync(source, 'utf8')) as { keys: JWK[] };
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      keys: { type: 'string' },
      study: { type: 'string' },
      patient: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
    },
  });
  const [command, target] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }

  switch (command) {
    case 'replay': {
      if (!target) usage('replay needs a case id or a history file.');
      installQuietReplayRuntime();
      let report;
      if (target.endsWith('.json')) {
        report = await replayCase(target, historyFromJSON(JSON.parse(readFileSync(target, 'utf8'))) as never);
      } else {
        const db = database();
        const temporal = await temporalClient();
        const { history } = await loadHistory(temporal.client, db, target);
        await temporal.close();
        await db.$disconnect();
        if (!history) usage(`No history for case ${target}: not in Temporal and not archived.`);
        report = await replayCase(target, history);
      }
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return report.result === 'reproduced' ? 0 : 1;
    }
    case 'timeline': {
      if (!target) usage('timeline needs a case id.');
      const db = database();
      const temporal = await temporalClient();
      const timeline = await caseTimeline({ db, temporal: temporal.client }, target);
      await temporal.close();
      await db.$disconnect();
      if (values.json) process.stdout.write(`${JSON.stringify(timeline, null, 2)}\n`);
      else {
        process.stdout.write(`case ${timeline.caseId} (workflow history: ${timeline.historySource})\n`);
        for (const e of timeline.entries) process.stdout.write(`${e.at}  ${e.source.padEnd(8)} ${(e.actor ?? '').padEnd(12)} ${e.summary}\n`);
      }
      return 0;
    }
    case 'export': {
      if (!target) usage('export needs a case id.');
      const { keyEncryptionKey: kek, rotationDays } = settings(loadAuditSigningConfig);
      const db = database();
      const temporal = await temporalClient();
      const keys = new SigningKeyStore(db, kek, { rotationDays, longestTokenSeconds: 3600 });
      const deps = { db, temporal: temporal.client, keys };
      const bundle = INCIDENT_ID_PATTERN.test(target) ? await exportIncidentBundle(deps, target) : await exportEvidenceBundle(deps, target);
      await temporal.close();
      await db.$disconnect();
      const text = `${JSON.stringify(bundle, null, 2)}\n`;
      if (values.out) writeFileSync(values.out, text);
      else process.stdout.write(text);
      return 0;
    }
    case 'verify': {
      if (!target || !values.keys) usage('verify needs a bundle file and --keys.');
      const signed = JSON.parse(readFileSync(target, 'utf8')) as { bundle?: { format?: string } };
      const keys = await loadKeys(values.keys);
      const result =
        signed.bundle?.format === INCIDENT_BUNDLE_FORMAT
          ? await verifyIncidentBundle(signed as SignedIncidentBundle, keys)
          : await verifyEvidenceBundle(signed as SignedEvidenceBundle, keys);
      process.stdout.write(
        result.ok
          ? 'bundle verified: signature, chain segment and checkpoint all hold\n'
          : `bundle FAILED verification:\n${result.problems.map((p) => `  - ${p}`).join('\n')}\n`,
      );
      return result.ok ? 0 : 1;
    }
    case 'who-accessed': {
      if (!values.study === !values.patient) usage('who-accessed needs exactly one of --study or --patient.');
      const db = database();
      const { items: rows } = await whoAccessed(db, { study: values.study, patient: values.patient, from: values.from, to: values.to });
      await db.$disconnect();
      if (values.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else
        for (const r of rows)
          process.stdout.write(
            `${r.at}  ${(r.username ?? '-').padEnd(12)} ${r.outcome.padEnd(8)} ${String(r.status).padEnd(4)} ` +
              `${r.grantId ?? '-'}  jti=${r.jti ?? '-'}  ${r.route} ${r.study ?? ''}\n`,
          );
      return 0;
    }
    default:
      usage(`Unknown command ${command}.`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`audit: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
