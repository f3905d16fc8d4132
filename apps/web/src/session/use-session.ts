import { type QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { sessionStateOptions, sessionStateQueryKey } from '../api/generated/@tanstack/react-query.gen';
import type { SessionStateDto } from '../api/generated/types.gen';
import type { SignInReason } from './sign-in-url';

export type Role = NonNullable<SessionStateDto['role']>;

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** The server's session state, and (set here, never by the server) why a session of this page ended. */
export type BrowserSession = SessionStateDto & { ended?: SignInReason };

/** Whether sign-in is needed and the role of this browser's session (`GET /session`). */
export function useSession() {
  return useQuery({ ...sessionStateOptions(), staleTime: Infinity, select: (state): BrowserSession => state });
}

/** The role may do what needs `need`; false until the role is known, so controls never flash enabled. */
export function useAllowed(need: Role): boolean {
  const role = useSession().data?.role;
  return role != null && RANK[role] >= RANK[need];
}

/** Writes what the browser now knows about its session (after sign-in, sign-out or a 401). */
export function setSessionState(queries: QueryClient, state: BrowserSession): void {
  queries.setQueryData<BrowserSession>(sessionStateQueryKey(), state);
}

/** Drops every cached answer but the session state: what one role read is not shown to the next. */
export function forgetServerData(queries: QueryClient): void {
  const sessionId = sessionStateQueryKey()[0]._id;
  queries.removeQueries({ predicate: (q) => (q.queryKey[0] as { _id?: string } | undefined)?._id !== sessionId });
}

/**
 * The session is over: signed out, or a request answered 401 (the cookie expired or is gone). The layout then sends
 * the browser to sign-in, saying why when this page had been signed in.
 */
export function markSignedOut(queries: QueryClient, reason: SignInReason = 'expired'): void {
  const state = queries.getQueryData<BrowserSession>(sessionStateQueryKey());
  if (state?.authRequired === false || (state && state.role === null)) return;
  setSessionState(queries, {
    authRequired: true,
    role: null,
    expiresAt: null,
    ended: state?.role ? reason : undefined,
  });
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** Ends the session on screen when its time is up (the browser drops the cookie then too), without a request. */
export function useSessionExpiry(expiresAt: string | null | undefined): void {
  const queries = useQueryClient();
  useEffect(() => {
    if (!expiresAt) return;
    const ms = Math.min(Math.max(Date.parse(expiresAt) - Date.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => markSignedOut(queries, 'expired'), ms);
    return () => clearTimeout(timer);
  }, [expiresAt, queries]);
}
