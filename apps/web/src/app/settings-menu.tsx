import { useSettings } from './settings';

export function SettingsMenu() {
  const [settings, update] = useSettings();
  return (
    <div className="settings-menu">
      <label>
        Theme{' '}
        <select value={settings.theme} onChange={(e) => update({ theme: e.target.value as typeof settings.theme })}>
          <option value="system">System</option>
          <option value="light">Light</option>
          <option value="dark">Dark</option>
        </select>
      </label>
      <label>
        <input type="checkbox" checked={settings.blurNsfw} onChange={(e) => update({ blurNsfw: e.target.checked })} />{' '}
        Blur NSFW
      </label>
    </div>
  );
}
