import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ClockView, IncidentView, NotificationView, NotifyInput, TraceView } from '../../../contracts/incident.js';
import { api, apiResponse, NetworkError, readProblem } from '../api/client';
import { download } from '../ui/download';
import { LEAK_TRACE_MAX_BYTES, LEAKED_DICOM_MAX_BYTES } from '../../../contracts/leak-trace.js';

// The incident pages' server state: one list, one detail per incident, and the calls that
// change an incident. Incidents are not in the event stream, so an open page asks again now
// and then (notifications are sent, and clocks run out, in the background).

export type { ClockView, IncidentView, NotificationView, NotifyInput, TraceView };
export type ClockStatus = ClockView['status'];
export type IndividualChannel = Extract<NotifyInput, { audience: 'individuals' }>['channel'];

/** GET /api/incidents/:id adds what the records say was reached within the scope and window. */
export type IncidentDetail = IncidentView & { affectedPatients: string[]; affectedStudies: string[] };

const REFRESH_MS = 4_000;

export const incidentKeys = {
  all: ['incidents'] as const,
  list: ['incidents', 'list'] as const,
  one: (id: string) => ['incidents', 'one', id] as const,
};

export function incidentPath(id: string, rest = ''): string {
  return `/api/incidents/${encodeURIComponent(id)}${rest}`;
}

export function useIncidentList() {
  return useQuery({
    queryKey: incidentKeys.list,
    queryFn: ({ signal }) => api<{ items: IncidentView[] }>('/api/incidents', { signal }),
    refetchInterval: REFRESH_MS,
  });
}

export function useIncident(id: string) {
  return useQuery({
    queryKey: incidentKeys.one(id),
    queryFn: ({ signal }) => api<IncidentDetail>(incidentPath(id), { signal }),
    // A closed incident changes no more.
    refetchInterval: (query) => (query.state.data?.status === 'CLOSED' ? false : REFRESH_MS),
  });
}

/**
 * One change to an incident (team, containment, notification, sign-off, trace). The answer is
 * the incident as it now stands; whatever the answer, every view of incidents is asked again,
 * since someone else may have acted first.
 */
export function useIncidentChange<Input>(id: string, send: (input: Input) => Promise<IncidentView>, onSuccess?: () => void) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: send,
    onSuccess: (view) => {
      client.setQueryData<IncidentDetail>(incidentKeys.one(id), (old) => (old ? { ...old, ...view } : old));
      onSuccess?.();
    },
    onSettled: () => void client.invalidateQueries({ queryKey: incidentKeys.all }),
  });
}

/** What the API takes as a leaked file, by the file's type or, when the browser does not know it, its name. */
export function leakedFileType(file: File): 'image/jpeg' | 'image/png' | 'application/dicom' | null {
  const type = file.type.toLowerCase();
  if (type === 'image/jpeg' || type === 'image/png' || type === 'application/dicom') return type;
  const name = file.name.toLowerCase();
  if (/\.(jpe?g)$/.test(name)) return 'image/jpeg';
  if (name.endsWith('.png')) return 'image/png';
  if (name.endsWith('.dcm') || (type === '' && !name.includes('.'))) return 'application/dicom';
  return null;
}

/** The largest leaked file of its type the API takes: an image is smaller than a DICOM file may be. */
export function leakedFileMaxBytes(type: ReturnType<typeof leakedFileType>): number {
  return type === 'application/dicom' ? LEAKED_DICOM_MAX_BYTES : LEAK_TRACE_MAX_BYTES;
}

/**
 * Sends a leaked file's bytes as they are, with their type. The shared client sends JSON
 * only, so this one call goes through fetch itself, with the same token and the same reading of
 * refusals; `onUnauthorized` ends the session on a 401 as the client does.
 */
export async function traceLeakedFile(id: string, file: File, token: string | null, onUnauthorized: () => void): Promise<IncidentView> {
  const type = leakedFileType(file);
  if (!type) throw new Error('unsupported file type');
  let response: Response;
  try {
    response = await fetch(incidentPath(id, '/leaked-files'), {
      method: 'POST',
      headers: { Accept: 'application/json, application/problem+json', 'Content-Type': type, ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: file,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (error) {
    throw new NetworkError(error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) {
    const problem = await readProblem(response);
    if (response.status === 401 && token) onUnauthorized();
    throw problem;
  }
  return (await response.json()) as IncidentView;
}

/** Hands the browser a file the API answered with (a bearer token cannot ride on a plain link). */
export async function downloadFrom(path: string, filename: string): Promise<void> {
  const response = await apiResponse(path);
  download(await response.blob(), filename);
}
