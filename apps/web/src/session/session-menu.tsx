import { useMutation, useQueryClient } from '@tanstack/react-query';
import { toProblem } from '../api/client';
import { sessionCloseMutation } from '../api/generated/@tanstack/react-query.gen';
import { forgetServerData, markSignedOut, useSession } from './use-session';

/** The signed-in role and sign-out, in the top bar; nothing when the API needs no sign-in. */
export function SessionMenu() {
  const session = useSession();
  const queries = useQueryClient();
  const close = useMutation({
    ...sessionCloseMutation(),
    onSuccess: () => {
      markSignedOut(queries, 'signed-out');
      forgetServerData(queries);
    },
  });
  const state = session.data;
  if (!state?.authRequired || !state.role) return null;
  return (
    <div className="session-menu row">
      <span data-testid="session-role">
        Signed in as <strong>{state.role}</strong>
      </span>
      <button type="button" onClick={() => close.mutate({})} disabled={close.isPending}>
        Sign out
      </button>
      {close.error && (
        <span role="alert" className="error-text">
          {toProblem(close.error).message}
        </span>
      )}
    </div>
  );
}
