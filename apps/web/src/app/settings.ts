import { useCallback, useSyncExternalStore } from 'react';

/** Per-browser preferences (localStorage): never server state. */
export interface Settings {
  theme: 'system' | 'light' | 'dark';
  blurNsfw: boolean;
  /** Levels at or above this Civitai bit are blurred (4 = R). */
  blurFrom: number;
}

const KEY = 'lora-manager.settings';
const DEFAULTS: Settings = { theme: 'system', blurNsfw: true, blurFrom: 4 };
const listeners = new Set<() => void>();
let current: Settings = read();

function read(): Settings {
  try {
    return { ...DEFAULTS, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Settings>) };
  } catch {
    return DEFAULTS;
  }
}

export function applyTheme(settings: Settings = current): void {
  const root = document.documentElement;
  if (settings.theme === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', settings.theme);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useSettings(): [Settings, (patch: Partial<Settings>) => void] {
  const settings = useSyncExternalStore(subscribe, () => current);
  const update = useCallback((patch: Partial<Settings>) => {
    current = { ...current, ...patch };
    localStorage.setItem(KEY, JSON.stringify(current));
    applyTheme(current);
    for (const listener of listeners) listener();
  }, []);
  return [settings, update];
}
