import { useQuery } from '@tanstack/react-query';
import { api, query, type AccessRequestStatus, type AccessRequestView, type Page, type WebConfig } from './client';

// Query keys shared by the pages, so a live event can invalidate every view of requests at once.
export const keys = {
  webConfig: ['web-config'] as const,
  requests: ['access-requests'] as const,
  requestList: (status?: AccessRequestStatus) => ['access-requests', 'list', status ?? 'all'] as const,
  request: (id: string) => ['access-requests', 'one', id] as const,
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
export async function listRequests(status: AccessRequestStatus | undefined, signal: AbortSignal): Promise<AccessRequestView[]> {
  const items: AccessRequestView[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const answer = await api<Page<AccessRequestView>>(`/api/access-requests${query({ status, limit: 100, cursor })}`, { signal });
    items.push(...answer.items);
    if (!answer.nextCursor) break;
    cursor = answer.nextCursor;
  }
  return items;
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
