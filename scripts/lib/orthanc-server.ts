import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startProcess, waitFor, type ManagedProcess } from './processes.js';
import { SetupError, step } from './progress.js';

export const ORTHANC_BINARY = process.env.ORTHANC_BINARY ?? '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = process.env.ORTHANC_DICOMWEB_PLUGIN ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface OrthancServer {
  /** DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web */
  readonly dicomwebUrl: string;
  readonly restUrl: string;
  readonly username: string;
  readonly password: string;
  readonly process: ManagedProcess;
}

export function orthancInstalled(): boolean {
  return existsSync(ORTHANC_BINARY) && existsSync(DICOMWEB_PLUGIN);
}

export const ORTHANC_MISSING =
  'Orthanc with its DICOMweb plugin is not installed. On Debian: `apt-get install orthanc orthanc-dicomweb` ' +
  '(or set ORTHANC_BINARY / ORTHANC_DICOMWEB_PLUGIN, or PACS_DICOMWEB_URL for a PACS you run).';

/**
 * Orthanc as the PACS, reachable only through the gateway: remote access refused, its own
 * generated credentials, no DICOM listener, no error descriptions in its answers.
 */
export async function startOrthanc(options: { dataDir: string; httpPort: number; logFile: string }): Promise<OrthancServer> {
  if (!orthancInstalled()) throw new SetupError(ORTHANC_MISSING);
  mkdirSync(options.dataDir, { recursive: true });
  const secretFile = path.join(options.dataDir, 'orthanc-password');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(24).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(secretFile, 'utf8').trim();
  const username = 'iar-gateway';
  const configFile = path.join(options.dataDir, 'orthanc.json');
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        Name: 'iar-pacs',
        HttpPort: options.httpPort,
        DicomServerEnabled: false,
        StorageDirectory: path.join(options.dataDir, 'storage'),
        IndexDirectory: path.join(options.dataDir, 'index'),
        RemoteAccessAllowed: false,
        AuthenticationEnabled: true,
        RegisteredUsers: { [username]: password },
        HttpDescribeErrors: false,
        Plugins: [DICOMWEB_PLUGIN],
        DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false },
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  const proc = startProcess('orthanc', ORTHANC_BINARY, [configFile], { logFile: options.logFile });
  const restUrl = `http://127.0.0.1:${options.httpPort}`;
  const authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  step(`waiting for Orthanc on ${restUrl}...`);
  await waitFor(`Orthanc on ${restUrl} (log: ${options.logFile})`, async () => (await fetch(`${restUrl}/system`, { headers: { authorization } })).ok, {
    process: proc,
    timeoutMs: 60_000,
  });
  return { dicomwebUrl: `${restUrl}/dicom-web`, restUrl, username, password, process: proc };
}
