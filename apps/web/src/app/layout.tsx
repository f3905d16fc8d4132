import { NavLink, Outlet } from 'react-router';
import { useLiveEvents } from '../api/live-events';
import { NAV_ITEMS } from './nav';
import { SettingsMenu } from './settings-menu';

export function Layout() {
  useLiveEvents(true);
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
                <NavLink to={item.to} end={item.to === '/'}>
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <SettingsMenu />
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
