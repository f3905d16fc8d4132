import { type Role, useAllowed, useSession } from './use-session';

/** Says why the controls beside it are disabled: the signed-in role may not do this. */
export function RoleNote({ need, action }: { need: Role; action: string }) {
  const role = useSession().data?.role;
  const allowed = useAllowed(need);
  if (allowed || !role) return null;
  return (
    <p className="muted small role-note">
      Signed in as {role}: {action} needs the {need} role.
    </p>
  );
}
