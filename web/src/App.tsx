import type { ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation } from 'react-router';
import { hasRole, useSession, type Role } from './auth/session';
import { OidcCallbackPage } from './auth/OidcCallbackPage';
import { ImageAccessPage } from './accesses/ImageAccessPage';
import { SignInPage } from './auth/SignInPage';
import { CasePage } from './cases/CasePage';
import { CaseSearchPage } from './cases/CaseSearchPage';
import { FreezesPage } from './freezes/FreezesPage';
import { GrantsPage } from './grants/GrantsPage';
import { IncidentPage } from './incidents/IncidentPage';
import { IncidentsPage } from './incidents/IncidentsPage';
import { MyRequestsPage } from './requests/MyRequestsPage';
import { ViewerPage } from './requests/ViewerPage';
import { ReviewQueuePage } from './reviews/ReviewQueuePage';
import { Layout } from './ui/Layout';
import { NotFoundPage } from './ui/NotFoundPage';

function RequireRole({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const { user } = useSession();
  const location = useLocation();
  // Signed out (or expired): sign in, then come back here.
  if (!user) return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  if (!hasRole(user, ...roles)) return <Navigate to="/" replace />;
  return <>{children}</>;
}

/** Each person lands on the page of what they do. */
function Home() {
  const { user } = useSession();
  if (!user) return <Navigate to="/sign-in" replace />;
  if (hasRole(user, 'clinician')) return <Navigate to="/requests" replace />;
  if (hasRole(user, 'supervisor', 'privacy_officer')) return <Navigate to="/reviews" replace />;
  if (hasRole(user, 'security_officer')) return <Navigate to="/grants" replace />;
  if (hasRole(user, 'auditor')) return <Navigate to="/cases" replace />;
  return <NotFoundPage />;
}

export function App() {
  return (
    <BrowserRouter>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<Home />} />
          <Route path="sign-in" element={<SignInPage />} />
          <Route path="sign-in/callback" element={<OidcCallbackPage />} />
          <Route
            path="requests"
            element={
              <RequireRole roles={['clinician']}>
                <MyRequestsPage />
              </RequireRole>
            }
          />
          <Route
            path="requests/:id/view"
            element={
              <RequireRole roles={['clinician']}>
                <ViewerPage />
              </RequireRole>
            }
          />
          <Route
            path="reviews"
            element={
              <RequireRole roles={['supervisor', 'privacy_officer']}>
                <ReviewQueuePage />
              </RequireRole>
            }
          />
          <Route
            path="grants"
            element={
              <RequireRole roles={['security_officer']}>
                <GrantsPage />
              </RequireRole>
            }
          />
          <Route
            path="cases"
            element={
              <RequireRole roles={['auditor']}>
                <CaseSearchPage />
              </RequireRole>
            }
          />
          <Route
            path="cases/:id"
            element={
              <RequireRole roles={['auditor']}>
                <CasePage />
              </RequireRole>
            }
          />
          <Route
            path="image-accesses"
            element={
              <RequireRole roles={['auditor', 'security_officer']}>
                <ImageAccessPage />
              </RequireRole>
            }
          />
          <Route
            path="freezes"
            element={
              <RequireRole roles={['security_officer', 'privacy_officer', 'auditor']}>
                <FreezesPage />
              </RequireRole>
            }
          />
          <Route
            path="incidents"
            element={
              <RequireRole roles={['security_officer', 'privacy_officer', 'auditor']}>
                <IncidentsPage />
              </RequireRole>
            }
          />
          <Route
            path="incidents/:id"
            element={
              <RequireRole roles={['security_officer', 'privacy_officer', 'auditor']}>
                <IncidentPage />
              </RequireRole>
            }
          />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}
