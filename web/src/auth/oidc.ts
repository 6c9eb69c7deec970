// OpenID Connect authorization code flow with PKCE (RFC 7636), for when the API names an
// issuer instead of dev login. The verifier and state live in sessionStorage only between the
// redirect out and the callback, and are removed as soon as the callback reads them.

const PENDING_KEY = 'iar.oidcPending';
export const CALLBACK_PATH = '/sign-in/callback';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  scope?: string;
}

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

function base64url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomText(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, { credentials: 'omit' });
  if (!response.ok) throw new Error(`discovery: ${response.status}`);
  const body = (await response.json()) as Partial<Discovery>;
  if (typeof body.authorization_endpoint !== 'string' || typeof body.token_endpoint !== 'string') throw new Error('discovery: no endpoints');
  return { authorization_endpoint: body.authorization_endpoint, token_endpoint: body.token_endpoint };
}

function redirectUri(): string {
  return `${window.location.origin}${CALLBACK_PATH}`;
}

/** Leaves for the issuer's sign-in page; `returnTo` is the app path to come back to. */
export async function startOidcSignIn(settings: OidcSettings, returnTo: string): Promise<void> {
  const discovery = await discover(settings.issuer);
  const verifier = randomText();
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const state = randomText(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, state, returnTo }));
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: redirectUri(),
    scope: settings.scope ?? 'openid',
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  window.location.assign(url.toString());
}

/** Finishes the flow on the callback page: the access token, and where to go next. */
export async function completeOidcSignIn(settings: OidcSettings, params: URLSearchParams): Promise<{ accessToken: string; returnTo: string }> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const pending = raw ? (JSON.parse(raw) as { verifier?: string; state?: string; returnTo?: string }) : null;
  const code = params.get('code');
  if (params.get('error')) throw new Error(`issuer: ${params.get('error')}`);
  if (!pending?.verifier || !pending.state || !code || params.get('state') !== pending.state) throw new Error('callback: no matching sign-in');
  const discovery = await discover(settings.issuer);
  const response = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    credentials: 'omit',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: settings.clientId,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error(`token: ${response.status}`);
  const body = (await response.json()) as { access_token?: unknown };
  if (typeof body.access_token !== 'string') throw new Error('token: no access_token');
  const returnTo = typeof pending.returnTo === 'string' && pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//') ? pending.returnTo : '/';
  return { accessToken: body.access_token, returnTo };
}
