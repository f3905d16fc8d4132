import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Navigate, useSearchParams } from 'react-router';
import { fieldMessage, toProblem } from '../api/client';
import { sessionOpenMutation } from '../api/generated/@tanstack/react-query.gen';
import { QueryState } from '../components/query-state';
import { isSignInReason, safeNext, SIGN_IN_MESSAGES } from './sign-in-url';
import { forgetServerData, setSessionState, useSession } from './use-session';

/** Exchanges an API key for the session cookie (`POST /session`); the key itself is not kept by the browser. */
export function SignInPage() {
  const [params] = useSearchParams();
  const session = useSession();
  const queries = useQueryClient();
  const [apiKey, setApiKey] = useState('');
  const open = useMutation({
    ...sessionOpenMutation(),
    onSuccess: (opened) => {
      forgetServerData(queries);
      setSessionState(queries, { authRequired: true, role: opened.role, expiresAt: opened.expiresAt });
    },
  });
  const next = safeNext(params.get('next'));
  const state = session.data;
  if (state && (!state.authRequired || state.role !== null)) return <Navigate to={next} replace />;
  const reason = params.get('reason');
  const problem = open.error ? toProblem(open.error) : null;
  const keyError = problem ? (fieldMessage(problem, 'apiKey') ?? problem.message) : undefined;
  return (
    <main id="main" className="sign-in">
      <form
        className="panel"
        aria-labelledby="sign-in-h"
        onSubmit={(e) => {
          e.preventDefault();
          open.mutate({ body: { apiKey } });
        }}
      >
        <p className="brand">LoRA Manager</p>
        <h1 id="sign-in-h">Sign in</h1>
        {isSignInReason(reason) && (
          <p role="status" className={reason === 'expired' ? 'warn-text' : 'muted'}>
            {SIGN_IN_MESSAGES[reason]}
          </p>
        )}
        <QueryState query={session} label="session" />
        <div className="field">
          <label htmlFor="api-key">API key</label>
          <input
            id="api-key"
            type="password"
            autoComplete="current-password"
            required
            value={apiKey}
            onChange={(e) => setApiKey(e.target.value)}
            aria-invalid={keyError ? true : undefined}
            aria-describedby={keyError ? 'api-key-error' : 'api-key-help'}
          />
          {keyError ? (
            <span className="field-error" id="api-key-error" role="alert">
              {keyError}
            </span>
          ) : (
            <span className="muted small" id="api-key-help">
              One of the keys in the server&apos;s API_KEYS. The browser keeps only a session cookie; the key is not
              stored.
            </span>
          )}
        </div>
        <button type="submit" className="primary" disabled={open.isPending || apiKey.length === 0}>
          {open.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
