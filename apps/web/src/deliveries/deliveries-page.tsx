import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { fieldMessage, toProblem } from '../api/client';
import {
  deliveriesBackendsOptions,
  deliveriesCancelMutation,
  deliveriesCreateMutation,
  deliveriesListOptions,
  deliveriesPatchMutation,
} from '../api/generated/@tanstack/react-query.gen';
import type { CreateDeliveryDto, DeliveryJobDto } from '../api/generated/types.gen';
import { formatTime } from '../components/format';
import { QueryState } from '../components/query-state';
import { RoleNote } from '../session/role-note';
import { useAllowed } from '../session/use-session';

function useInvalidateDeliveries() {
  const queries = useQueryClient();
  return () => queries.invalidateQueries({ queryKey: [{ _id: 'deliveriesList' }] });
}

function CreateForm() {
  const [params] = useSearchParams();
  const backends = useQuery(deliveriesBackendsOptions());
  const [mode, setMode] = useState('');
  const [prompt, setPrompt] = useState(params.get('prompt') ?? '');
  const [negative, setNegative] = useState(params.get('negative') ?? '');
  const [paramsText, setParamsText] = useState('{}');
  const [jsonError, setJsonError] = useState<string | null>(null);
  const invalidate = useInvalidateDeliveries();
  const create = useMutation({ ...deliveriesCreateMutation(), onSuccess: invalidate });
  const canCreate = useAllowed('editor');
  const problem = create.error ? toProblem(create.error) : null;
  const chosen = mode || backends.data?.[0]?.name || '';
  const backend = backends.data?.find((b) => b.name === chosen);
  return (
    <form
      className="panel"
      aria-labelledby="new-h"
      onSubmit={(e) => {
        e.preventDefault();
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(paramsText || '{}') as Record<string, unknown>;
          setJsonError(null);
        } catch {
          setJsonError('Parameters must be a JSON object');
          return;
        }
        // The parameters are JSON typed by the user; the server checks them against the chosen mode's schema.
        const body = {
          mode: chosen,
          prompt,
          negativePrompt: negative || undefined,
          params: parsed,
        } as CreateDeliveryDto;
        create.mutate({ body });
      }}
    >
      <h2 id="new-h">New delivery</h2>
      <div className="row">
        <label>
          Backend{' '}
          <select value={chosen} onChange={(e) => setMode(e.target.value)}>
            {backends.data?.map((b) => (
              <option key={b.name} value={b.name}>
                {b.name} ({b.requiredRole})
              </option>
            ))}
          </select>
        </label>
        {backend && <span className="muted small">allows: {backend.allowList.join(', ') || 'nothing configured'}</span>}
      </div>
      <div className="field">
        <label htmlFor="d-prompt">Prompt</label>
        <textarea id="d-prompt" rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        {fieldMessage(problem, 'prompt') && <span className="field-error">{fieldMessage(problem, 'prompt')}</span>}
      </div>
      <div className="field">
        <label htmlFor="d-negative">Negative prompt</label>
        <textarea id="d-negative" rows={2} value={negative} onChange={(e) => setNegative(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="d-params">
          Parameters (JSON: http {'{ "url" }'}, cli {'{ "command", "args" }'}, sdnext txt2img fields)
        </label>
        <textarea
          id="d-params"
          rows={3}
          className="mono"
          value={paramsText}
          onChange={(e) => setParamsText(e.target.value)}
        />
        {(jsonError ?? fieldMessage(problem, 'params')) && (
          <span className="field-error">{jsonError ?? fieldMessage(problem, 'params')}</span>
        )}
      </div>
      <div className="row">
        <button type="submit" className="primary" disabled={!canCreate || create.isPending || !chosen}>
          Create delivery
        </button>
        <RoleNote need="editor" action="creating a delivery" />
        {create.data && <span role="status">Queued {create.data.id.slice(0, 8)}.</span>}
        {problem && (problem.fields.length === 0 || !['prompt', 'params'].some((f) => fieldMessage(problem, f))) && (
          <span role="alert" className="error-text">
            {problem.message}
          </span>
        )}
      </div>
    </form>
  );
}

function DeliveryRow({ delivery }: { delivery: DeliveryJobDto }) {
  const invalidate = useInvalidateDeliveries();
  const patch = useMutation({ ...deliveriesPatchMutation(), onSettled: invalidate });
  const cancel = useMutation({ ...deliveriesCancelMutation(), onSettled: invalidate });
  const open = delivery.status === 'queued' || delivery.status === 'running';
  const canEdit = useAllowed('editor');
  const error = patch.error ?? cancel.error;
  return (
    <tr>
      <td>
        <span className={`badge ${delivery.status === 'succeeded' ? 'ok' : delivery.status === 'failed' ? 'bad' : ''}`}>
          {delivery.status}
        </span>
        {delivery.error && <div className="error-text small">{delivery.error}</div>}
      </td>
      <td>{delivery.mode}</td>
      <td className="small prompt-line">{delivery.prompt}</td>
      <td className="small">{formatTime(delivery.createdAt)}</td>
      <td>
        <select
          aria-label={`Rating of delivery ${delivery.id.slice(0, 8)}`}
          value={delivery.rating ?? ''}
          disabled={!canEdit}
          onChange={(e) =>
            patch.mutate({
              path: { id: delivery.id },
              body: { rating: e.target.value === '' ? null : Number(e.target.value) },
            })
          }
        >
          <option value="">—</option>
          {[0, 1, 2, 3, 4, 5].map((n) => (
            <option key={n} value={n}>
              {'★'.repeat(n) || '0'}
            </option>
          ))}
        </select>
      </td>
      <td>
        <button
          type="button"
          aria-pressed={delivery.favorite}
          disabled={!canEdit}
          aria-label={`Favorite delivery ${delivery.id.slice(0, 8)}`}
          onClick={() => patch.mutate({ path: { id: delivery.id }, body: { favorite: !delivery.favorite } })}
        >
          {delivery.favorite ? '★' : '☆'}
        </button>
      </td>
      <td>
        {open && (
          <button type="button" disabled={!canEdit} onClick={() => cancel.mutate({ path: { id: delivery.id } })}>
            Cancel
          </button>
        )}
        {error && (
          <span role="alert" className="error-text small">
            {toProblem(error).message}
          </span>
        )}
      </td>
    </tr>
  );
}

export function DeliveriesPage() {
  const list = useQuery({
    ...deliveriesListOptions({ query: { limit: 50 } }),
    refetchInterval: (query) =>
      query.state.data?.items.some((d) => d.status === 'queued' || d.status === 'running') ? 2_000 : false,
  });
  return (
    <section className="page">
      <h1>Deliveries</h1>
      <CreateForm />
      <section className="panel" aria-labelledby="list-h">
        <h2 id="list-h">Deliveries ({list.data?.total ?? 0})</h2>
        <QueryState query={list} />
        <div className="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Backend</th>
                <th scope="col">Prompt</th>
                <th scope="col">Created</th>
                <th scope="col">Rating</th>
                <th scope="col">Favorite</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.data?.items.map((d) => (
                <DeliveryRow key={d.id} delivery={d} />
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </section>
  );
}
