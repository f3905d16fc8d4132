import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { markSignedOut } from '../session/use-session';

// Any 401 means the session cookie expired or is gone: the layout then shows the sign-in page.
const onError = (error: unknown) => {
  if ((error as { statusCode?: unknown } | null)?.statusCode === 401) markSignedOut(queryClient);
};

/** The page's one query cache (routes prefetch into it before their code has loaded). */
export const queryClient: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      retry: (count, error) => count < 2 && !(error as { statusCode?: number }).statusCode,
    },
  },
});
