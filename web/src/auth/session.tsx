import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { knownRoles } from '../../../contracts/role-claim.js';
import type { Role } from '../../../domain/access-request.js';
import { configureClient, type WebConfig } from '../api/client';
import { useWebConfig } from '../api/queries';
import { ErrorMessage, Loading } from '../ui/status';

// The API login token lives in sessionStorage: this tab only, gone when it closes, and it
// expires within the hour anyway. PACS tokens never come here (see requests/pacs-token.ts).

const STORAGE_KEY = 'iar.apiToken';

export type { Role };

export interface SessionUser {
  username: string;
  name: string | null;
  roles: Role[];
  expiresAt: number;
}

export type SignOutReason = 'signed-out' | 'expired';

interface SessionValue {
  token: string | null;
  user: SessionUser | null;
  /** Why the last session ended, shown on the sign-in page. */
  endedBecause: SignOutReason | null;
  signIn: (token: string) => void;
  signOut: (reason?: SignOutReason) => void;
}

const SessionContext = createContext<SessionValue | null>(null);

export interface ClaimNames {
  roles: string;
  username: string;
}

export function claimNames(config: WebConfig | undefined): ClaimNames {
  if (config?.auth !== 'oidc') return { roles: 'roles', username: 'sub' };
  return { roles: config.oidcRolesClaim ?? 'roles', username: config.oidcUsernameClaim ?? 'sub' };
}

/**
 * Reads the claims the page needs. The API verifies the token and decides what it may do;
 * this only shows the name and chooses which pages to offer.
 */
export function userFromToken(token: string, names: ClaimNames = { roles: 'roles', username: 'sub' }): SessionUser | null {
  const claims = decodeClaims(token);
  if (!claims) return null;
  const username = claims[names.username];
  const roleClaim = claims[names.roles];
  if (typeof username !== 'string' || typeof claims.exp !== 'number') return null;
  const roles = knownRoles(roleClaim);
  return { username, name: typeof claims.name === 'string' ? claims.name : null, roles, expiresAt: claims.exp * 1000 };
}

function decodeClaims(token: string): Record<string, unknown> | null {
  try {
    const payload = token.split('.')[1];
    if (!payload) return null;
    const json = atob(
      payload
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(payload.length / 4) * 4, '='),
    );
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
  } catch {
    return null;
  }
}

async function endServerSession(token: string): Promise<void> {
  try {
    // keepalive: the call completes even if the tab navigates away at once.
    await fetch('/api/sign-out', { method: 'POST', headers: { Authorization: `Bearer ${token}` }, credentials: 'omit', keepalive: true });
  } catch {
    // Nothing more can be done from here; the token still expires on its own.
  }
}

function tokenExpiry(token: string): number | null {
  const claims = decodeClaims(token);
  return claims && typeof claims.exp === 'number' ? claims.exp * 1000 : null;
}

function storedToken(): string | null {
  const token = sessionStorage.getItem(STORAGE_KEY);
  if (!token) return null;
  const expiresAt = tokenExpiry(token);
  if (expiresAt === null || expiresAt <= Date.now()) {
    sessionStorage.removeItem(STORAGE_KEY);
    return null;
  }
  return token;
}

/** The session needs the page's configuration first: it says which claims name the user. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const config = useWebConfig();
  const names = useMemo(() => claimNames(config.data), [config.data]);
  if (config.isPending) return <Loading />;
  if (config.isError) return <ErrorMessage error={config.error} onRetry={() => void config.refetch()} />;
  return <Session names={names}>{children}</Session>;
}

function Session({ names, children }: { names: ClaimNames; children: ReactNode }) {
  const client = useQueryClient();
  const [token, setToken] = useState<string | null>(storedToken);
  const [endedBecause, setEndedBecause] = useState<SignOutReason | null>(null);
  const user = useMemo(() => (token ? userFromToken(token, names) : null), [token, names]);

  const signOut = useCallback(
    (reason: SignOutReason = 'signed-out') => {
      const ending = sessionStorage.getItem(STORAGE_KEY);
      // Signing out ends the session on the server too, so a copy of the token is refused. An
      // expired token needs no ending; a failed call leaves a token that expires within the hour.
      if (reason === 'signed-out' && ending) void endServerSession(ending);
      sessionStorage.removeItem(STORAGE_KEY);
      setToken(null);
      setEndedBecause(reason);
      client.clear();
    },
    [client],
  );

  const signIn = useCallback(
    (next: string) => {
      client.clear();
      sessionStorage.setItem(STORAGE_KEY, next);
      setEndedBecause(null);
      setToken(next);
    },
    [client],
  );

  // Set while rendering, not in an effect: the pages' first queries start in their own effects,
  // which run before this provider's, and must already carry the token after a reload.
  configureClient(
    () => token,
    () => signOut('expired'),
  );

  // The session ends when the token does, whatever the page is doing.
  useEffect(() => {
    if (!user) return;
    const timer = setTimeout(() => signOut('expired'), Math.max(0, user.expiresAt - Date.now()));
    return () => clearTimeout(timer);
  }, [user, signOut]);

  const value = useMemo(() => ({ token, user, endedBecause, signIn, signOut }), [token, user, endedBecause, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

export function hasRole(user: SessionUser | null, ...roles: Role[]): boolean {
  return !!user && user.roles.some((role) => roles.includes(role));
}
