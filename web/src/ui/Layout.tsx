import { useTranslation } from 'react-i18next';
import { NavLink, Outlet } from 'react-router';
import { useLiveEvents } from '../api/events';
import { hasRole, useSession } from '../auth/session';
import { LanguageSwitch } from './LanguageSwitch';

export function Layout() {
  const { t } = useTranslation();
  const { token, user, signOut } = useSession();
  useLiveEvents(token);
  const links = [
    { to: '/requests', label: t('nav.requests'), show: hasRole(user, 'clinician') },
    { to: '/reviews', label: t('nav.reviews'), show: hasRole(user, 'supervisor', 'privacy_officer') },
    { to: '/grants', label: t('nav.grants'), show: hasRole(user, 'security_officer') },
    { to: '/cases', label: t('nav.cases'), show: hasRole(user, 'auditor') },
    { to: '/image-accesses', label: t('nav.accesses'), show: hasRole(user, 'auditor', 'security_officer') },
    { to: '/freezes', label: t('nav.freezes'), show: hasRole(user, 'security_officer', 'privacy_officer', 'auditor') },
    { to: '/incidents', label: t('incidents.nav'), show: hasRole(user, 'security_officer', 'privacy_officer', 'auditor') },
  ].filter((link) => link.show);
  return (
    <>
      <a className="skip-link" href="#main">
        {t('ui.skipToContent')}
      </a>
      <header className="site-header">
        <span className="brand">{t('ui.appName')}</span>
        {user && (
          <nav aria-label={t('nav.label')}>
            <ul>
              {links.map((link) => (
                <li key={link.to}>
                  <NavLink to={link.to}>{link.label}</NavLink>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div className="header-tools">
          <LanguageSwitch />
          {user && (
            <>
              <span className="who">{t('ui.signedInAs', { username: user.username })}</span>
              <button type="button" className="button secondary" onClick={() => signOut('signed-out')}>
                {t('auth.signOut')}
              </button>
            </>
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
