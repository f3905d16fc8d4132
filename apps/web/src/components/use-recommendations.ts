import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  recommendationsFeedbackMutation,
  recommendationsSimilarOptions,
} from '../api/generated/@tanstack/react-query.gen';
import { recommendationsForPrompt } from '../api/generated/sdk.gen';
import { useDebounced } from './use-debounced';

export function useSimilarAdapters(id: string) {
  return useQuery(recommendationsSimilarOptions({ path: { id }, query: { limit: 8 } }));
}

/** Adapters for the prompt being typed (after a short pause); nothing for a blank prompt. */
export function usePromptSuggestions(prompt: string, baseModel: string | undefined) {
  const settled = useDebounced(prompt.trim(), 300);
  return useQuery({
    queryKey: ['recommendations', 'for-prompt', settled, baseModel ?? null],
    queryFn: async ({ signal }) =>
      (await recommendationsForPrompt({ body: { prompt: settled, baseModel, limit: 6 }, signal, throwOnError: true }))
        .data,
    enabled: settled !== '',
    placeholderData: keepPreviousData,
  });
}

/** Records feedback, then reloads every recommendation list so the new ranking shows. */
export function useRecommendationFeedback() {
  const queries = useQueryClient();
  return useMutation({
    ...recommendationsFeedbackMutation(),
    onSuccess: () =>
      Promise.all([
        queries.invalidateQueries({ queryKey: [{ _id: 'recommendationsSimilar' }] }),
        queries.invalidateQueries({ queryKey: ['recommendations'] }),
      ]),
  });
}
