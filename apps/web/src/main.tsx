import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { configureClient } from './api/client';
import { queryClient } from './app/query-client';
import { createRouter } from './app/routes';
import { applyTheme } from './app/settings';
import './styles.css';

configureClient();
applyTheme();
const router = createRouter();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
