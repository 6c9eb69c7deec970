import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
// @ts-expect-error -- oidc-provider ships no type declarations and @types/oidc-provider is not a dependency; the little used here is typed below.
import { Provider as UntypedProvider, errors } from 'oidc-provider';

/** The roles the issuer asserts for the demo users (README, "Demo users"); departments are the API's own. */
export const DEMO_ROLES: Readonly<Record<string, readonly string[]>> = {
  'clin.alice': ['clinician'],
  'clin.bob': ['clinician'],
  'sup.carol': ['supervisor'],
  'sup.erin': ['supervisor'],
  'priv.dave': ['privacy_officer'],
  'aud.frank': ['auditor'],
  'sec.grace': ['security_officer'],
};

/** Where the provider serves its keys: the API must be told before the issuer starts (its port is chosen first). */
export const JWKS_PATH = '/jwks';

export interface OidcIssuerOptions {
  /** A free loopback port, chosen before the API starts: the API's CSP and settings name the issuer. */
  port: number;
  /** The web app's origin (the API's address): its callback is the one registered redirect URI, and the only CORS origin. */
  webOrigin: string;
  clientId: string;
  /** The API's OIDC_AUDIENCE: the `aud` of every access token. */
  audience: string;
  /** The claim the API reads roles from (OIDC_ROLES_CLAIM). */
  rolesClaim: string;
}

export interface OidcIssuer {
  issuer: string;
  jwksUrl: string;
  close(): Promise<void>;
}

interface TokenLike {
  kind: string;
  accountId?: string;
}
interface ClientLike {
  redirectUris: string[];
}
interface ProviderLike {
  callback(): RequestListener;
  on(event: 'server_error', listener: (ctx: unknown, error: Error) => void): void;
}
const Provider = UntypedProvider as new (issuer: string, configuration: Record<string, unknown>) => ProviderLike;
const InvalidTarget = (errors as { InvalidTarget: new (description?: string) => Error }).InvalidTarget;

/**
 * A real OpenID provider (panva's oidc-provider) on loopback, set up as an organisation would
 * for the web app: one public client (no secret, authorization code, PKCE), the provider's own
 * development login and consent pages (any username, any password), and JWT access tokens for
 * the API (RFC 8707 resource indicators) carrying the username and the roles.
 */
export async function startOidcIssuer(options: OidcIssuerOptions): Promise<OidcIssuer> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const redirectUri = `${options.webOrigin}/sign-in/callback`;
  // The resource indicator must be an absolute URI; the audience the API checks is its own setting.
  const resource = `${options.webOrigin}/api`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'issuer-1', alg: 'RS256', use: 'sig' };

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [redirectUri],
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    routes: { jwks: JWKS_PATH },
    claims: { openid: ['sub'], profile: ['preferred_username'] },
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub, preferred_username: sub }) }),
    pkce: { required: () => true },
    // Seconds; short, as a test needs them, and stated so the provider does not warn about its defaults.
    ttl: { AccessToken: 600, Interaction: 600, Session: 3600, Grant: 3600, AuthorizationCode: 60, IdToken: 600 },
    // The page fetches the token endpoint itself: CORS for the client's own origin, no other.
    clientBasedCORS: (_ctx: unknown, origin: string, client: ClientLike) => client.redirectUris.some((uri) => new URL(uri).origin === origin),
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // The page sends no `resource`: every authorization is for the API.
        defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf ?? resource,
        // …and so is the token: without this the provider keeps an `openid` request's token for its userinfo endpoint.
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new InvalidTarget();
          return { scope: 'api', audience: options.audience, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    extraTokenClaims: (_ctx: unknown, token: TokenLike) =>
      token.kind === 'AccessToken' && token.accountId
        ? { preferred_username: token.accountId, [options.rolesClaim]: [...(DEMO_ROLES[token.accountId] ?? [])] }
        : undefined,
  });
  // A failure inside the provider otherwise shows only as the browser's "oops" page.
  provider.on('server_error', (_ctx, error) => console.error('oidc-provider server_error', error));

  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  return {
    issuer,
    jwksUrl: `${issuer}${JWKS_PATH}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
