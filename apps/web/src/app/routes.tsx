import { createBrowserRouter } from 'react-router';
import { prefetchFirstPage } from '../library/first-page';
import { Layout } from './layout';
import { loadPage } from './pages';
import { queryClient } from './query-client';
import { NotFoundPage } from './not-found-page';
import { SIGN_IN_PATH } from '../session/sign-in-url';

/** Shown while the first page's code (and its loader) is on its way. */
const LOADING = (
  <p className="muted page-loading" role="status">
    Loading…
  </p>
);

/**
 * Each page is its own chunk: the first load carries the shell and the page it opens. Created once the client is
 * configured: the router starts the first route's loaders (and their requests) as soon as it exists.
 */
export const createRouter = () =>
  createBrowserRouter([
    {
      path: SIGN_IN_PATH,
      hydrateFallbackElement: LOADING,
      lazy: async () => ({ Component: (await import('../session/sign-in-page')).SignInPage }),
    },
    {
      element: <Layout />,
      hydrateFallbackElement: LOADING,
      children: [
        { index: true, lazy: async () => ({ Component: (await loadPage['/']()).DashboardPage }) },
        {
          path: 'library',
          // A loader runs beside `lazy`: the first page is on its way while the page's code loads.
          loader: ({ request }) => {
            prefetchFirstPage(queryClient, request.url);
            return null;
          },
          lazy: async () => ({ Component: (await loadPage['/library']()).LibraryPage }),
        },
        {
          path: 'adapters/:id',
          lazy: async () => ({ Component: (await import('../adapter/adapter-page')).AdapterPage }),
        },
        { path: 'composer', lazy: async () => ({ Component: (await loadPage['/composer']()).ComposerPage }) },
        { path: 'studio', lazy: async () => ({ Component: (await loadPage['/studio']()).StudioPage }) },
        { path: 'history', lazy: async () => ({ Component: (await loadPage['/history']()).HistoryPage }) },
        { path: 'recipes', lazy: async () => ({ Component: (await loadPage['/recipes']()).RecipesPage }) },
        { path: 'imports', lazy: async () => ({ Component: (await loadPage['/imports']()).ImportsPage }) },
        { path: 'downloads', lazy: async () => ({ Component: (await loadPage['/downloads']()).DownloadsPage }) },
        { path: 'deliveries', lazy: async () => ({ Component: (await loadPage['/deliveries']()).DeliveriesPage }) },
        { path: 'backups', lazy: async () => ({ Component: (await loadPage['/backups']()).BackupsPage }) },
        { path: '*', Component: NotFoundPage },
      ],
    },
  ]);
