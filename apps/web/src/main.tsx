import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { configureClient } from './api/client';
import { router } from './app/routes';
import { applyTheme } from './app/settings';
import { markSignedOut } from './session/use-session';
import './styles.css';

configureClient();
applyTheme();

// Any 401 means the session cookie expired or is gone: the layout then shows the sign-in page.
const onError = (error: unknown) => {
  if ((error as { statusCode?: unknown } | null)?.statusCode === 401) markSignedOut(queries);
};
const queries: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      retry: (count, error) => count < 2 && !(error as { statusCode?: number }).statusCode,
    },
  },
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
