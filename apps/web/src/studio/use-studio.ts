import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  generationBackendOptionsOptions,
  generationBackendsOptions,
  generationCancelMutation,
  generationGetOptions,
  generationListOptions,
  generationQueueMutation,
} from '../api/generated/@tanstack/react-query.gen';

export function useBackends() {
  return useQuery({ ...generationBackendsOptions(), refetchInterval: 5_000 });
}

export function useBackendOptions(backendId: string | undefined) {
  return useQuery({
    ...generationBackendOptionsOptions({ path: { backendId: backendId ?? '' } }),
    enabled: Boolean(backendId),
    retry: false,
  });
}

/** The latest jobs; polled while any is waiting or running so states change even between live events. */
export function useQueueList() {
  return useQuery({
    ...generationListOptions({ query: { limit: 20 } }),
    refetchInterval: (query) =>
      query.state.data?.items.some((j) => j.status === 'queued' || j.status === 'running') ? 1_500 : false,
  });
}

export function useJob(jobId: string | null) {
  return useQuery({ ...generationGetOptions({ path: { jobId: jobId ?? '' } }), enabled: Boolean(jobId) });
}

function useInvalidateJobs() {
  const queries = useQueryClient();
  return () => queries.invalidateQueries({ queryKey: [{ _id: 'generationList' }] });
}

export function useQueueGeneration() {
  const invalidate = useInvalidateJobs();
  return useMutation({ ...generationQueueMutation(), onSuccess: invalidate });
}

export function useCancelGeneration() {
  const invalidate = useInvalidateJobs();
  return useMutation({ ...generationCancelMutation(), onSettled: invalidate });
}
