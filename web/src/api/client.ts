import type { AccessRequestView } from '../../../contracts/access-request-view.js';

// The one fetch client: the API's bearer token on every call, problem+json read into ApiError.

export type { AccessRequestView };
export type AccessRequestStatus = AccessRequestView['status'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface FieldError {
  path: string;
  message: string;
}

/** An RFC 9457 problem from the API or the gateway. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly reason: string | undefined,
    readonly detail: string | undefined,
    readonly errors: FieldError[],
    readonly retryAfterSeconds: number | undefined,
  ) {
    super(detail ?? title);
  }

  /** The code pages translate: the API's `reason`, else the gateway's title (its reason code). */
  get code(): string | undefined {
    if (this.reason) return this.reason;
    return /^[A-Z][A-Z_]+$/.test(this.title) ? this.title : undefined;
  }
}

/** The network itself failed: no answer at all. */
export class NetworkError extends Error {}

let tokenSource: () => string | null = () => null;
let onUnauthorized: () => void = () => {};

/** Wired once by the session: where the token comes from, and what a 401 means. */
export function configureClient(getToken: () => string | null, unauthorized: () => void): void {
  tokenSource = getToken;
  onUnauthorized = unauthorized;
}

export async function readProblem(response: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    const type = response.headers.get('Content-Type') ?? '';
    if (type.includes('json')) body = (await response.json()) as Record<string, unknown>;
  } catch {
    body = {};
  }
  const errors = Array.isArray(body.errors)
    ? body.errors.filter((e): e is FieldError => typeof e === 'object' && e !== null && typeof (e as FieldError).path === 'string')
    : [];
  const retryAfter = Number(response.headers.get('Retry-After'));
  return new ApiError(
    response.status,
    typeof body.title === 'string' ? body.title : response.statusText,
    typeof body.reason === 'string' ? body.reason : undefined,
    typeof body.detail === 'string' ? body.detail : undefined,
    errors,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
  );
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send no bearer token (public routes). */
  anonymous?: boolean;
}

/** The raw response, checked: throws ApiError on anything but 2xx. */
export async function apiResponse(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...options.headers };
  const token = options.anonymous ? null : tokenSource();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      body: options.body === undefined ? null : JSON.stringify(options.body),
      signal: options.signal ?? null,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new NetworkError(error instanceof Error ? error.message : String(error));
  }
  if (!response.ok) {
    const problem = await readProblem(response);
    if (response.status === 401 && token) onUnauthorized();
    throw problem;
  }
  return response;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await apiResponse(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A query string from the defined, non-empty values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export interface WebConfig {
  /** The longest break-glass grant the API allows. */
  breakGlassMaxMinutes?: number;
  /** The PACS gateway's origin as the browser reaches it; null when the API was not told. */
  gatewayUrl: string | null;
  temporalUiUrl: string | null;
  auth: 'dev-login' | 'oidc';
  languages: string[];
  /** With `auth: 'oidc'`: the issuer, and the public client this page signs in as (PKCE, no secret). */
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcScope?: string;
  /** The access token's claims that carry the roles and the username (the API's OIDC_ROLES_CLAIM, OIDC_USERNAME_CLAIM). */
  oidcRolesClaim?: string;
  oidcUsernameClaim?: string;
}

export interface TokenAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export type { CaseTimeline as Timeline, TimelineEntry } from '../../../contracts/case-timeline.js';
export type { AccessLog, AccessLogRow } from '../../../contracts/access-log.js';
export type { ReplayReport } from '../../../contracts/replay-report.js';

export type { FoundStudy, StudyLookup } from '../../../contracts/study-lookup.js';

export type { FreezeView } from '../../../contracts/freeze.js';
