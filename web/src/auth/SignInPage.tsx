import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation } from 'react-router';
import { api, type TokenAnswer } from '../api/client';
import { useWebConfig } from '../api/queries';
import { ErrorMessage, Loading } from '../ui/status';
import { startOidcSignIn } from './oidc';
import { useSession } from './session';
import { useDocumentTitle } from '../ui/useDocumentTitle';

/** The seeded demo users of the embedded default (README, "Demo users"). */
export const DEMO_USERS = [
  { username: 'clin.alice', role: 'clinician' },
  { username: 'clin.bob', role: 'clinician' },
  { username: 'sup.carol', role: 'supervisor' },
  { username: 'sup.erin', role: 'supervisor' },
  { username: 'priv.dave', role: 'privacy_officer' },
  { username: 'aud.frank', role: 'auditor' },
  { username: 'sec.grace', role: 'security_officer' },
] as const;

export function SignInPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('auth.title'));
  const { user, endedBecause, signIn } = useSession();
  const config = useWebConfig();
  const location = useLocation();
  const from = (location.state as { from?: unknown } | null)?.from;
  // Only a path of this app: never a URL elsewhere.
  const back = typeof from === 'string' && from.startsWith('/') && !from.startsWith('//') ? from : '/';
  const login = useMutation({
    mutationFn: (username: string) => api<TokenAnswer>('/auth/dev-login', { body: { username }, anonymous: true }),
    onSuccess: (answer) => signIn(answer.access_token),
  });

  if (user) return <Navigate to={back} replace />;

  return (
    <section className="sign-in" aria-labelledby="sign-in-heading">
      <h1 id="sign-in-heading">{t('auth.title')}</h1>
      {endedBecause === 'expired' && (
        <p className="notice" role="alert">
          {t('auth.expired')}
        </p>
      )}
      {endedBecause === 'signed-out' && (
        <p className="notice" role="status">
          {t('auth.signedOut')}
        </p>
      )}
      {config.isPending && <Loading />}
      {config.isError && <ErrorMessage error={config.error} />}
      {config.data?.auth === 'oidc' && (
        <OidcSignIn issuer={config.data.oidcIssuer} clientId={config.data.oidcClientId} scope={config.data.oidcScope} back={back} />
      )}
      {config.data?.auth === 'dev-login' && (
        <>
          <p>{t('auth.devLoginIntro')}</p>
          <ul className="demo-users">
            {DEMO_USERS.map((demo) => (
              <li key={demo.username}>
                <button type="button" className="button" onClick={() => login.mutate(demo.username)} disabled={login.isPending}>
                  {demo.username}
                </button>
                <span className="muted">{t(`roles.${demo.role}`)}</span>
              </li>
            ))}
          </ul>
          {login.isError && <ErrorMessage error={login.error} />}
        </>
      )}
    </section>
  );
}

function OidcSignIn({ issuer, clientId, scope, back }: { issuer?: string; clientId?: string; scope?: string; back: string }) {
  const { t } = useTranslation();
  const start = useMutation({ mutationFn: () => startOidcSignIn({ issuer: issuer!, clientId: clientId!, ...(scope ? { scope } : {}) }, back) });
  if (!issuer || !clientId) return <p className="error">{t('auth.oidcMisconfigured')}</p>;
  return (
    <>
      <button type="button" className="button" onClick={() => start.mutate()} disabled={start.isPending}>
        {t('auth.oidcSignIn')}
      </button>
      {start.isError && (
        <p className="error" role="alert">
          {t('auth.oidcFailed')}
        </p>
      )}
    </>
  );
}
