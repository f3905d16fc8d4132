import { useMutation, useQuery } from '@tanstack/react-query';
import {
  adaptersDuplicatesOfOptions,
  adaptersGetOptions,
  adaptersPatchMutation,
  adaptersRemoveMutation,
} from '../api/generated/@tanstack/react-query.gen';
import { useInvalidateAdapters } from '../library/use-library';

export function useAdapter(id: string) {
  return useQuery(adaptersGetOptions({ path: { id } }));
}

export function useDuplicatesOf(id: string) {
  return useQuery(adaptersDuplicatesOfOptions({ path: { id } }));
}

export function usePatchAdapter() {
  const invalidate = useInvalidateAdapters();
  return useMutation({ ...adaptersPatchMutation(), onSuccess: invalidate });
}

export function useRemoveAdapter() {
  const invalidate = useInvalidateAdapters();
  return useMutation({ ...adaptersRemoveMutation(), onSuccess: invalidate });
}
