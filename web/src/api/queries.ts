import { useQuery } from '@tanstack/react-query';
import { api, query, type AccessLog, type AccessRequestStatus, type AccessRequestView, type Page, type WebConfig } from './client';

// Query keys shared by the pages, so a live event can invalidate every view of requests at once.
export const keys = {
  webConfig: ['web-config'] as const,
  requests: ['access-requests'] as const,
  requestList: (status?: AccessRequestStatus) => ['access-requests', 'list', status ?? 'all'] as const,
  request: (id: string) => ['access-requests', 'one', id] as const,
  /** What was seen under a request's grant: under `requests`, so the same live events refresh it. */
  imageAccesses: (id: string) => ['access-requests', 'image-accesses', id] as const,
  cases: (filters: Record<string, string>) => ['cases', 'search', filters] as const,
  timeline: (id: string) => ['cases', 'timeline', id] as const,
  freezes: ['freezes'] as const,
};

export function useWebConfig() {
  return useQuery({
    queryKey: keys.webConfig,
    queryFn: ({ signal }) => api<WebConfig>('/api/web-config', { signal, anonymous: true }),
    staleTime: Infinity,
  });
}

/** Every request the caller may see in one status (or all), all pages followed up to a bound. */
export async function listRequests(
  status: AccessRequestStatus | undefined,
  signal: AbortSignal,
  extra: { kind?: string; retroStatus?: string } = {},
): Promise<AccessRequestView[]> {
  const items: AccessRequestView[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const answer = await api<Page<AccessRequestView>>(`/api/access-requests${query({ status, ...extra, limit: 100, cursor })}`, { signal });
    items.push(...answer.items);
    if (!answer.nextCursor) break;
    cursor = answer.nextCursor;
  }
  return items;
}

/** Break-glass grants whose review afterwards is still to be done, that the caller may see. */
export function useRetroReviewList() {
  return useQuery({
    queryKey: ['access-requests', 'list', 'retro-pending'] as const,
    queryFn: ({ signal }) => listRequests(undefined, signal, { kind: 'break-glass', retroStatus: 'PENDING' }),
  });
}

export function useRequestList(status?: AccessRequestStatus) {
  return useQuery({ queryKey: keys.requestList(status), queryFn: ({ signal }) => listRequests(status, signal) });
}

export function useRequest(id: string) {
  return useQuery({
    queryKey: keys.request(id),
    queryFn: ({ signal }) => api<AccessRequestView>(`/api/access-requests/${encodeURIComponent(id)}`, { signal }),
  });
}

/** The gateway's records of what was seen under one request's grant, oldest first; while the grant runs, asked again now and then. */
export function useImageAccesses(id: string, running: boolean) {
  return useQuery({
    queryKey: keys.imageAccesses(id),
    queryFn: ({ signal }) => api<AccessLog>(`/api/access-requests/${encodeURIComponent(id)}/image-accesses`, { signal }),
    // Image accesses change no request, so no live event says so: a running grant is looked at again.
    refetchInterval: running ? 15_000 : false,
  });
}
