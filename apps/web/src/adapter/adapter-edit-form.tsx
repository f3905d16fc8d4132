import { type ReactNode, useState } from 'react';
import { fieldMessage, toProblem } from '../api/client';
import type { AdapterDto } from '../api/generated/types.gen';
import { NSFW_LEVELS } from '../components/format';
import { editValuesOf, type EditValues, patchOf } from './edit-fields';
import { usePatchAdapter } from './use-adapter';
import { RoleNote } from '../session/role-note';
import { useAllowed } from '../session/use-session';

function Field({ id, label, error, children }: { id: string; label: string; error?: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {error && (
        <span className="field-error" id={`${id}-error`} role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** The user fields of an adapter; each saved one is kept across resyncs. Errors appear beside their field. */
export function AdapterEditForm({ adapter }: { adapter: AdapterDto }) {
  const initial = editValuesOf(adapter);
  const [values, setValues] = useState<EditValues>(initial);
  const [saved, setSaved] = useState(false);
  const patch = usePatchAdapter();
  const canEdit = useAllowed('editor');
  const problem = patch.error ? toProblem(patch.error) : null;
  const set = (key: keyof EditValues) => (e: { target: { value: string } }) => {
    setSaved(false);
    setValues({ ...values, [key]: e.target.value });
  };
  const text = (
    key: Exclude<keyof EditValues, 'favorite' | 'active'>,
    label: string,
    props: Record<string, unknown> = {},
  ) => {
    const error = fieldMessage(problem, key);
    return (
      <Field id={`edit-${key}`} label={label} error={error}>
        <input
          id={`edit-${key}`}
          value={values[key]}
          onChange={set(key)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `edit-${key}-error` : undefined}
          {...props}
        />
      </Field>
    );
  };
  const body = patchOf(initial, values);
  const unchanged = Object.keys(body).length === 0;
  return (
    <form
      className="panel edit-form"
      aria-labelledby="edit-h"
      onSubmit={(e) => {
        e.preventDefault();
        patch.mutate(
          { path: { id: adapter.id }, body },
          {
            onSuccess: (updated) => {
              setValues(editValuesOf(updated));
              setSaved(true);
            },
          },
        );
      }}
    >
      <h2 id="edit-h">Edit</h2>
      <RoleNote need="editor" action="editing" />
      <fieldset className="plain-fieldset" disabled={!canEdit}>
        <legend className="sr-only">User fields</legend>
        {text('name', 'Name')}
        <Field
          id="edit-triggerWords"
          label="Trigger words (comma-separated)"
          error={fieldMessage(problem, 'triggerWords')}
        >
          <textarea id="edit-triggerWords" rows={2} value={values.triggerWords} onChange={set('triggerWords')} />
        </Field>
        <div className="row">
          {text('preferredWeight', 'Preferred weight', { inputMode: 'decimal', size: 6 })}
          {text('weightMin', 'Weight min', { inputMode: 'decimal', size: 6 })}
          {text('weightMax', 'Weight max', { inputMode: 'decimal', size: 6 })}
        </div>
        {text('tags', 'Tags (comma-separated)')}
        {text('baseModel', 'Base model')}
        <Field id="edit-nsfwOverride" label="NSFW override" error={fieldMessage(problem, 'nsfwOverride')}>
          <select id="edit-nsfwOverride" value={values.nsfwOverride} onChange={set('nsfwOverride')}>
            <option value="">From the source</option>
            <option value="0">Unrated</option>
            {NSFW_LEVELS.map((l) => (
              <option key={l.bit} value={l.bit}>
                {l.label}
              </option>
            ))}
          </select>
        </Field>
        <div className="row">
          <label>
            <input
              type="checkbox"
              checked={values.favorite}
              onChange={(e) => setValues({ ...values, favorite: e.target.checked })}
            />{' '}
            Favorite
          </label>
          <label>
            <input
              type="checkbox"
              checked={values.active}
              onChange={(e) => setValues({ ...values, active: e.target.checked })}
            />{' '}
            Active
          </label>
          {text('ordinal', 'Ordinal', { inputMode: 'numeric', size: 6 })}
        </div>
        <Field id="edit-notes" label="Notes" error={fieldMessage(problem, 'notes')}>
          <textarea id="edit-notes" rows={3} value={values.notes} onChange={set('notes')} />
        </Field>
        <div className="row">
          <button type="submit" className="primary" disabled={unchanged || patch.isPending}>
            {patch.isPending ? 'Saving…' : 'Save'}
          </button>
          {saved && <span role="status">Saved.</span>}
          {problem && problem.fields.length === 0 && (
            <span role="alert" className="error-text" id="edit-error">
              {problem.message}
            </span>
          )}
        </div>
      </fieldset>
    </form>
  );
}
