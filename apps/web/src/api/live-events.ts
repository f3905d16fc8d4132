import { type QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { Socket } from 'socket.io-client';
import type { ProgressEventMap, ProgressEventName } from '../../../../libs/core/src/events/progress-events';

export type LiveEventMap = ProgressEventMap;

const TOPICS = ['jobs', 'imports', 'generations', 'deliveries', 'civitai', 'downloads'] as const;

/** Cache key of the last live event of a kind for one job (progress bars read it). */
export const liveKey = (event: ProgressEventName, jobId: string) => ['live', event, jobId] as const;

/** Queries (by generated operation id) whose data a live event makes stale. */
const staleAfter: Partial<Record<ProgressEventName, string[]>> = {
  'generation.completed': ['generationList', 'generationGet', 'generationProgress'],
  'generation.failed': ['generationList', 'generationGet', 'generationProgress'],
  'generation.cancelled': ['generationList', 'generationGet', 'generationProgress'],
  'import.completed': ['importsList', 'importsGet', 'adaptersList', 'adaptersTags', 'adaptersBaseModels'],
  'delivery.updated': ['deliveriesList', 'deliveriesGet'],
  'civitai.completed': ['civitaiRunsList', 'civitaiStatus', 'adaptersList', 'adaptersGet'],
  'download.completed': ['downloadsList', 'downloadsGet', 'adaptersList'],
};

function apply<E extends ProgressEventName>(queries: QueryClient, event: E, payload: ProgressEventMap[E]): void {
  queries.setQueryData(liveKey(event, payload.jobId), payload);
  for (const id of staleAfter[event] ?? []) void queries.invalidateQueries({ queryKey: [{ _id: id }] });
}

/**
 * The one Socket.IO connection of the page: joins the topic rooms and writes each event into the query cache, so
 * components read live progress with `useLiveEvent` and lists refetch when a job ends. The session cookie
 * authenticates the handshake.
 */
export function useLiveEvents(enabled: boolean): void {
  const queries = useQueryClient();
  useEffect(() => {
    if (!enabled) return;
    let socket: Socket | undefined;
    let closed = false;
    // Loaded after the first render: the Socket.IO client is not on the path to the first cards.
    void import('socket.io-client').then(({ io }) => {
      if (closed) return;
      socket = io('/progress', { transports: ['websocket'], withCredentials: true });
      socket.on('connect', () => {
        for (const topic of TOPICS) socket?.emit('subscribe', { topic });
      });
      socket.onAny((event: string, payload: unknown) => {
        if (typeof payload === 'object' && payload !== null && 'jobId' in payload) {
          apply(queries, event as ProgressEventName, payload as ProgressEventMap[ProgressEventName]);
        }
      });
    });
    return () => {
      closed = true;
      socket?.disconnect();
    };
  }, [enabled, queries]);
}

/** The last event of this kind for a job, as the live connection wrote it into the cache. */
export function useLiveEvent<E extends ProgressEventName>(
  event: E,
  jobId: string | undefined,
): ProgressEventMap[E] | undefined {
  const { data } = useQuery<ProgressEventMap[E] | null>({
    queryKey: liveKey(event, jobId ?? ''),
    queryFn: () => null,
    enabled: false,
    staleTime: Infinity,
  });
  return data ?? undefined;
}
