import { useState } from 'react';
import { useNavigate } from 'react-router';
import { toProblem } from '../api/client';
import type { AdapterSummaryDto, BulkAdapterActionDto } from '../api/generated/types.gen';
import { composerUrlWith } from '../composer/composer-state';
import { RoleNote } from '../session/role-note';
import { useAllowed } from '../session/use-session';
import { useAddTag, useBulkAction } from './use-library';

const ACTIONS: { action: BulkAdapterActionDto['action']; label: string }[] = [
  { action: 'activate', label: 'Activate' },
  { action: 'deactivate', label: 'Deactivate' },
  { action: 'favorite', label: 'Favorite' },
  { action: 'unfavorite', label: 'Unfavorite' },
  { action: 'delete', label: 'Delete records' },
];

export function BulkBar({ selected, onClear }: { selected: Map<string, AdapterSummaryDto>; onClear: () => void }) {
  const bulk = useBulkAction();
  const addTag = useAddTag();
  const navigate = useNavigate();
  const [tag, setTag] = useState('');
  const canEdit = useAllowed('editor');
  const [result, setResult] = useState<string | null>(null);
  if (selected.size === 0) return null;
  const ids = [...selected.keys()];
  const run = async (action: BulkAdapterActionDto['action']) => {
    if (action === 'delete' && !window.confirm(`Delete ${ids.length} adapter records? The files stay on disk.`)) return;
    const outcome = await bulk.run(action, ids).catch(() => null);
    if (outcome) {
      setResult(
        `${outcome.action}: ${outcome.affected} changed${outcome.notFound.length ? `, ${outcome.notFound.length} not found` : ''}`,
      );
      if (action === 'delete') onClear();
    }
  };
  const error = bulk.error ?? addTag.error;
  return (
    <div className="bulk-bar panel" role="region" aria-label="Selected adapters">
      <strong>{selected.size} selected</strong>
      {ACTIONS.map(({ action, label }) => (
        <button key={action} type="button" disabled={!canEdit || bulk.isPending} onClick={() => void run(action)}>
          {label}
        </button>
      ))}
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (tag.trim()) addTag.mutate({ adapters: [...selected.values()], tag: tag.trim().toLowerCase() });
        }}
      >
        <label>
          <span className="sr-only">Tag to add</span>
          <input value={tag} onChange={(e) => setTag(e.target.value)} placeholder="tag" size={10} />
        </label>
        <button type="submit" disabled={!canEdit || addTag.isPending}>
          Add tag
        </button>
      </form>
      <button type="button" onClick={() => void navigate(composerUrlWith(ids))}>
        Compose with these
      </button>
      <button type="button" onClick={onClear}>
        Clear selection
      </button>
      <RoleNote need="editor" action="changing adapters" />
      <span role="status">{result}</span>
      {error && (
        <span role="alert" className="error-text">
          {toProblem(error).message}
        </span>
      )}
    </div>
  );
}
