import { Link } from 'react-router';
import { toProblem } from '../api/client';
import type { RecommendationDto } from '../api/generated/types.gen';
import { useAllowed } from '../session/use-session';
import { useRecommendationFeedback } from './use-recommendations';

interface Props {
  items: RecommendationDto[];
  /** Where the list is shown: feedback is recorded against it. */
  context: { kind: 'similar'; sourceAdapterId: string } | { kind: 'prompt'; prompt: string };
  /** An action beside each hit (e.g. add to the composer). */
  action?: (item: RecommendationDto) => React.ReactNode;
}

const percent = (n: number): string => `${Math.round(n * 100)}`;

/** Recommended adapters with their score parts, the reasons, and useful / not useful buttons. */
export function RecommendationList({ items, context, action }: Props) {
  const feedback = useRecommendationFeedback();
  const canRate = useAllowed('editor');
  const rate = (item: RecommendationDto, useful: boolean) =>
    feedback.mutate({
      body: {
        kind: context.kind,
        adapterId: item.adapter.id,
        useful,
        ...(context.kind === 'similar' ? { sourceAdapterId: context.sourceAdapterId } : { prompt: context.prompt }),
      },
    });
  return (
    <>
      <ol className="plain recommendations">
        {items.map((item) => (
          <li key={item.adapter.id} className="recommendation" data-testid="recommendation">
            <div className="row">
              {action?.(item)}
              <Link to={`/adapters/${item.adapter.id}`}>{item.adapter.name}</Link>
              <span className="muted small">{item.adapter.baseModel}</span>
              {!item.compatible && <span className="badge warn">other base model</span>}
              <span
                className="muted small"
                title={`text ${percent(item.parts.text)} · co-usage ${percent(item.parts.coUsage)} · feedback ${percent(item.parts.feedback)}`}
              >
                score {percent(item.score)}
              </span>
            </div>
            <ul className="reasons small">
              {item.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
            <div className="row">
              <button
                type="button"
                disabled={!canRate || feedback.isPending}
                onClick={() => rate(item, true)}
                aria-label={`Useful: ${item.adapter.name}`}
              >
                Useful
              </button>
              <button
                type="button"
                disabled={!canRate || feedback.isPending}
                onClick={() => rate(item, false)}
                aria-label={`Not useful: ${item.adapter.name}`}
              >
                Not useful
              </button>
            </div>
          </li>
        ))}
      </ol>
      {feedback.error && (
        <span role="alert" className="error-text">
          {toProblem(feedback.error).message}
        </span>
      )}
    </>
  );
}
