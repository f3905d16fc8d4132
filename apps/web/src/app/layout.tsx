import { Navigate, NavLink, Outlet, useLocation } from 'react-router';
import { useLiveEvents } from '../api/live-events';
import { SessionMenu } from '../session/session-menu';
import { signInUrl } from '../session/sign-in-url';
import { useSession, useSessionExpiry } from '../session/use-session';
import { NAV_ITEMS } from './nav';
import { preloadPage } from './pages';
import { SettingsMenu } from './settings-menu';

/**
 * The shell of every page. Pages load at once (they do not wait for the session state); when keys are configured and
 * the browser has no session, or a request answers 401, it goes to sign-in, saying so when a session ended.
 */
export function Layout() {
  const session = useSession();
  const state = session.data;
  const location = useLocation();
  useSessionExpiry(state?.expiresAt);
  useLiveEvents(state?.role != null);
  if (state?.authRequired && state.role === null) {
    const here = `${location.pathname}${location.search}`;
    return <Navigate to={signInUrl(here, state.ended)} replace />;
  }
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">LoRA Manager</span>
        <nav aria-label="Main">
          <ul>
            {NAV_ITEMS.map((item) => (
              <li key={item.to}>
                <NavLink
                  to={item.to}
                  end={item.to === '/'}
                  onPointerEnter={preloadPage(item.to)}
                  onFocus={preloadPage(item.to)}
                >
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <SettingsMenu />
        <SessionMenu />
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
