/** The code of each page of the navigation, each its own chunk; asked for again, a module is not fetched twice. */
export const loadPage = {
  '/': () => import('../dashboard/dashboard-page'),
  '/library': () => import('../library/library-page'),
  '/composer': () => import('../composer/composer-page'),
  '/studio': () => import('../studio/studio-page'),
  '/history': () => import('../history/history-page'),
  '/recipes': () => import('../recipes/recipes-page'),
  '/imports': () => import('../imports/imports-page'),
  '/downloads': () => import('../downloads/downloads-page'),
  '/deliveries': () => import('../deliveries/deliveries-page'),
  '/backups': () => import('../backups/backups-page'),
} as const;

export type PagePath = keyof typeof loadPage;

/** Starts loading a page's code when the pointer or focus reaches its link, ahead of the click. */
export const preloadPage = (path: PagePath) => () => void loadPage[path]().catch(() => undefined);
