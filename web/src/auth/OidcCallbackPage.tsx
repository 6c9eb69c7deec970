import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { useWebConfig } from '../api/queries';
import { Loading } from '../ui/status';
import { useDocumentTitle } from '../ui/useDocumentTitle';
import { completeOidcSignIn } from './oidc';
import { useSession } from './session';

/** Where the issuer sends the browser back with the authorization code. */
export function OidcCallbackPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('auth.title'));
  const config = useWebConfig();
  const { signIn } = useSession();
  const navigate = useNavigate();
  const [failed, setFailed] = useState(false);
  // The code can be exchanged once only: StrictMode's second effect run must not try again.
  const started = useRef(false);

  useEffect(() => {
    const data = config.data;
    if (!data || started.current) return;
    started.current = true;
    const params = new URLSearchParams(window.location.search);
    // The code leaves the address bar (and the history) at once.
    window.history.replaceState(null, '', window.location.pathname);
    if (data.auth !== 'oidc' || !data.oidcIssuer || !data.oidcClientId) {
      setFailed(true);
      return;
    }
    completeOidcSignIn({ issuer: data.oidcIssuer, clientId: data.oidcClientId }, params)
      .then(({ accessToken, returnTo }) => {
        signIn(accessToken);
        navigate(returnTo, { replace: true });
      })
      .catch(() => setFailed(true));
  }, [config.data, signIn, navigate]);

  if (!failed) return <Loading label={t('auth.oidcCompleting')} />;
  return (
    <section>
      <h1>{t('auth.title')}</h1>
      <p className="error" role="alert">
        {t('auth.oidcFailed')}
      </p>
      <Link to="/sign-in">{t('auth.tryAgain')}</Link>
    </section>
  );
}
