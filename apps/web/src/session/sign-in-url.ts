export const SIGN_IN_PATH = '/sign-in';

/** Why the sign-in page is shown; it says so above the form. */
export type SignInReason = 'expired' | 'signed-out';

export const SIGN_IN_MESSAGES: Record<SignInReason, string> = {
  expired: 'Your session has ended. Sign in again to continue.',
  'signed-out': 'You have signed out.',
};

/** Only a path of this site, and never the sign-in page itself, is a place to return to. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith(SIGN_IN_PATH)) return '/';
  return next;
}

export function signInUrl(next: string, reason?: SignInReason): string {
  const params = new URLSearchParams();
  if (next !== '/') params.set('next', safeNext(next));
  if (reason) params.set('reason', reason);
  const query = params.toString();
  return query ? `${SIGN_IN_PATH}?${query}` : SIGN_IN_PATH;
}

export const isSignInReason = (value: string | null): value is SignInReason =>
  value !== null && Object.hasOwn(SIGN_IN_MESSAGES, value);
