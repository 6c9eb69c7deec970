import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { keys } from './queries';

// Live updates: GET /api/events is text/event-stream, read with fetch streaming because
// EventSource cannot send the Authorization header. Each `access-request` event invalidates
// the cached requests, so every page showing one refetches it from the API.

interface ServerEvent {
  event: string;
  data: string;
}

/** Splits an event stream into events (WHATWG "server-sent events" framing). */
export function parseEventStream(buffer: string): { events: ServerEvent[]; rest: string } {
  const events: ServerEvent[] = [];
  const normalised = buffer.replace(/\r\n?/g, '\n');
  const blocks = normalised.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, data: data.join('\n') });
  }
  return { events, rest };
}

export function useLiveEvents(token: string | null): void {
  const client = useQueryClient();
  useEffect(() => {
    if (!token) return;
    const controller = new AbortController();
    let retryMs = 1000;
    const run = async (): Promise<void> => {
      while (!controller.signal.aborted) {
        try {
          const response = await fetch('/api/events', {
            headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
            signal: controller.signal,
            credentials: 'omit',
            cache: 'no-store',
          });
          // A 401 ends the session elsewhere (the next API call); stop listening.
          if (response.status === 401 || response.status === 403) return;
          if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
          retryMs = 1000;
          // Whatever changed while disconnected is fetched afresh.
          void client.invalidateQueries({ queryKey: keys.requests });
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            const parsed = parseEventStream(buffer + value);
            buffer = parsed.rest;
            for (const event of parsed.events) {
              // `resync`: more changed than the server lists one by one; reload everything all the same.
              if (event.event === 'access-request' || event.event === 'resync') void client.invalidateQueries({ queryKey: keys.requests });
            }
          }
        } catch {
          if (controller.signal.aborted) return;
        }
        await new Promise((resolve) => setTimeout(resolve, retryMs));
        retryMs = Math.min(retryMs * 2, 30_000);
      }
    };
    void run();
    return () => controller.abort();
  }, [token, client]);
}
