import { createBrowserRouter } from 'react-router';
import { Layout } from './layout';
import { NotFoundPage } from './not-found-page';
import { SIGN_IN_PATH } from '../session/sign-in-url';

/** Each page is its own chunk: the first load carries the shell and the page it opens. */
export const router = createBrowserRouter([
  {
    path: SIGN_IN_PATH,
    lazy: async () => ({ Component: (await import('../session/sign-in-page')).SignInPage }),
  },
  {
    element: <Layout />,
    children: [
      { index: true, lazy: async () => ({ Component: (await import('../dashboard/dashboard-page')).DashboardPage }) },
      { path: 'library', lazy: async () => ({ Component: (await import('../library/library-page')).LibraryPage }) },
      {
        path: 'adapters/:id',
        lazy: async () => ({ Component: (await import('../adapter/adapter-page')).AdapterPage }),
      },
      { path: 'composer', lazy: async () => ({ Component: (await import('../composer/composer-page')).ComposerPage }) },
      { path: 'studio', lazy: async () => ({ Component: (await import('../studio/studio-page')).StudioPage }) },
      { path: 'history', lazy: async () => ({ Component: (await import('../history/history-page')).HistoryPage }) },
      { path: 'imports', lazy: async () => ({ Component: (await import('../imports/imports-page')).ImportsPage }) },
      {
        path: 'deliveries',
        lazy: async () => ({ Component: (await import('../deliveries/deliveries-page')).DeliveriesPage }),
      },
      { path: '*', Component: NotFoundPage },
    ],
  },
]);
