import { useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { configureClient } from '../api/client';

// The API login token lives in sessionStorage: this tab only, gone when it closes, and it
// expires within the hour anyway. PACS tokens never come here (see requests/pacs-token.ts).

const STORAGE_KEY = 'iar.apiToken';

export type Role = 'clinician' | 'supervisor' | 'privacy_officer' | 'auditor' | 'security_officer';

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

/** Reads the claims the page needs. The API verifies the token; this only displays them. */
export function userFromToken(token: string): SessionUser | null {
  try {
    const payload = token.split('.')[1];
    if (!payload) return null;
    const json = atob(
      payload
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(payload.length / 4) * 4, '='),
    );
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
    if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') return null;
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is Role => typeof r === 'string') : [];
    return { username: claims.sub, name: typeof claims.name === 'string' ? claims.name : null, roles, expiresAt: claims.exp * 1000 };
  } catch {
    return null;
  }
}

function storedToken(): string | null {
  const token = sessionStorage.getItem(STORAGE_KEY);
  if (!token) return null;
  const user = userFromToken(token);
  if (!user || user.expiresAt <= Date.now()) {
    sessionStorage.removeItem(STORAGE_KEY);
    return null;
  }
  return token;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [token, setToken] = useState<string | null>(storedToken);
  const [endedBecause, setEndedBecause] = useState<SignOutReason | null>(null);
  const user = useMemo(() => (token ? userFromToken(token) : null), [token]);

  const signOut = useCallback(
    (reason: SignOutReason = 'signed-out') => {
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
