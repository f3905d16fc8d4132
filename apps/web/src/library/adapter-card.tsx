import { memo } from 'react';
import { Link } from 'react-router';
import { toProblem } from '../api/client';
import type { AdapterSummaryDto } from '../api/generated/types.gen';
import { AdapterPreview } from '../components/adapter-preview';
import { useAllowed } from '../session/use-session';
import { useAdapterToggle } from './use-library';

interface ItemProps {
  adapter: AdapterSummaryDto;
  selected: boolean;
  onSelect: (adapter: AdapterSummaryDto) => void;
}

function Toggles({ adapter }: { adapter: AdapterSummaryDto }) {
  const toggle = useAdapterToggle();
  const canEdit = useAllowed('editor');
  const set = (body: { favorite?: boolean; active?: boolean }) => toggle.mutate({ path: { id: adapter.id }, body });
  return (
    <span className="row toggles">
      <button
        type="button"
        aria-pressed={adapter.favorite}
        aria-label={`Favorite ${adapter.name}`}
        title={canEdit ? 'Favorite' : 'Favorite (needs the editor role)'}
        disabled={!canEdit}
        onClick={() => set({ favorite: !adapter.favorite })}
      >
        {adapter.favorite ? '★' : '☆'}
      </button>
      {/* The visible state is part of the name (imported adapters start inactive); the name tells cards apart. */}
      <button
        type="button"
        aria-pressed={adapter.active}
        title={
          canEdit
            ? 'In the active set, the default selection of a composition'
            : 'In the active set (changing it needs the editor role)'
        }
        disabled={!canEdit}
        onClick={() => set({ active: !adapter.active })}
      >
        {adapter.active ? 'Active' : 'Inactive'}
        <span className="sr-only"> {adapter.name}</span>
      </button>
      {toggle.error && (
        <span role="alert" className="error-text">
          {toProblem(toggle.error).message}
        </span>
      )}
    </span>
  );
}

function SelectBox({ adapter, selected, onSelect }: ItemProps) {
  return (
    <input
      type="checkbox"
      checked={selected}
      onChange={() => onSelect(adapter)}
      aria-label={`Select ${adapter.name}`}
      className="select-box"
    />
  );
}

export const AdapterCard = memo(function AdapterCard(props: ItemProps) {
  const { adapter } = props;
  return (
    <article role="listitem" className={`card ${adapter.missingSince ? 'missing' : ''}`} aria-label={adapter.name}>
      <AdapterPreview adapter={adapter} size={180} thumbnail={256} />
      <div className="card-body">
        <div className="row card-title">
          <SelectBox {...props} />
          <Link to={`/adapters/${adapter.id}`} className="card-name">
            {adapter.name}
          </Link>
        </div>
        <div className="muted small">
          {adapter.baseModel} · {adapter.modelType}
          {adapter.missingSince && <span className="badge bad">missing</span>}
          {adapter.hasUpdate && (
            <span className="badge" title="A newer version is on Civitai">
              update
            </span>
          )}
        </div>
        <div className="small trigger-words" title={adapter.triggerWords.join(', ')}>
          {adapter.triggerWords.slice(0, 4).join(', ') || <span className="muted">no trigger words</span>}
        </div>
        <Toggles adapter={adapter} />
      </div>
    </article>
  );
});

export const AdapterRow = memo(function AdapterRow(props: ItemProps) {
  const { adapter } = props;
  return (
    <div role="listitem" className="adapter-row" aria-label={adapter.name}>
      <SelectBox {...props} />
      <Link to={`/adapters/${adapter.id}`} className="card-name">
        {adapter.name}
      </Link>
      <span className="muted">{adapter.baseModel}</span>
      <span className="muted">{adapter.modelType}</span>
      <span className="small trigger-words">{adapter.triggerWords.slice(0, 3).join(', ')}</span>
      <Toggles adapter={adapter} />
    </div>
  );
});
