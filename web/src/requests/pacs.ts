import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, NetworkError, readProblem, type TokenAnswer } from '../api/client';

// The PACS token lives in this module's memory only: never in storage, never in a URL. It is
// obtained when the viewer opens, renewed before it expires, and dropped when the viewer closes.

/** The gateway's DICOMweb root from its configured address. */
export function dicomWebRoot(gatewayUrl: string): string {
  const base = gatewayUrl.replace(/\/+$/, '');
  return base.endsWith('/dicom-web') ? base : `${base}/dicom-web`;
}

export async function gatewayFetch(url: string, token: string, accept: string, signal?: AbortSignal): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Authorization: `Bearer ${token}`, Accept: accept },
      signal: signal ?? null,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new NetworkError(error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) throw await readProblem(response);
  return response;
}

/** A DICOM JSON attribute's first value (PS3.18 F.2). */
export function dicomValue(item: Record<string, { Value?: unknown[] } | undefined>, tag: string): string | undefined {
  const value = item[tag]?.Value?.[0];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'object' && 'Alphabetic' in value) return String((value as { Alphabetic: unknown }).Alphabetic);
  return String(value);
}

export interface PacsTokenState {
  /**
   * A gateway request with the current token. A 401 (the token expired while a background tab's
   * timers were held back, say) renews the token at once and tries again, once.
   */
  fetch: (url: string, accept: string, signal?: AbortSignal) => Promise<Response>;
  ready: boolean;
  expiresAt: number | null;
  error: unknown;
}

/** Renew at four fifths of the token's life, and at least 20 s before it ends. */
export function renewDelayMs(expiresInSeconds: number): number {
  return Math.max(1000, Math.min(expiresInSeconds * 0.8, expiresInSeconds - 20) * 1000);
}

export function usePacsToken(requestId: string, enabled: boolean): PacsTokenState {
  const token = useRef<string | null>(null);
  /** Renews now; one renewal at a time, shared by every request that asks. */
  const renewNow = useRef<() => Promise<void>>(async () => {});
  const [expiresAt, setExpiresAt] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    if (!enabled) {
      token.current = null;
      setExpiresAt(null);
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let inFlight: Promise<void> | null = null;
    const controller = new AbortController();
    const obtain = async (attempt: number): Promise<void> => {
      clearTimeout(timer);
      try {
        const answer = await api<TokenAnswer>(`/api/access-requests/${encodeURIComponent(requestId)}/tokens`, { method: 'POST', signal: controller.signal });
        if (stopped) return;
        token.current = answer.access_token;
        setExpiresAt(Date.now() + answer.expires_in * 1000);
        setError(null);
        timer = setTimeout(() => void renew(), renewDelayMs(answer.expires_in));
      } catch (failure) {
        if (stopped) return;
        const refused = failure instanceof ApiError && failure.status < 500 && failure.status !== 429;
        if (refused || attempt >= 3) {
          token.current = null;
          setError(failure);
          return;
        }
        // The network or a busy API: try again soon, while the current token still serves.
        const wait = failure instanceof ApiError && failure.retryAfterSeconds ? failure.retryAfterSeconds * 1000 : 2000 * (attempt + 1);
        await new Promise((resolve) => (timer = setTimeout(resolve, wait)));
        if (!stopped) await obtain(attempt + 1);
      }
    };
    const renew = (): Promise<void> => {
      inFlight ??= obtain(0).finally(() => {
        inFlight = null;
      });
      return inFlight;
    };
    renewNow.current = renew;
    void renew();
    return () => {
      stopped = true;
      controller.abort();
      clearTimeout(timer);
      token.current = null;
      renewNow.current = async () => {};
    };
  }, [requestId, enabled]);

  const fetchWithToken = useCallback(async (url: string, accept: string, signal?: AbortSignal) => {
    try {
      return await gatewayFetch(url, token.current ?? '', accept, signal);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      await renewNow.current();
      if (!token.current) throw error;
      return gatewayFetch(url, token.current, accept, signal);
    }
  }, []);
  return { fetch: fetchWithToken, ready: expiresAt !== null && token.current !== null, expiresAt, error };
}
