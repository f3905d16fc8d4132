import type { ComposeAdapterDto, ComposeRequestDto } from '../api/generated/types.gen';

/** One picked adapter with its strengths; `te`/`unet` only when they differ from `weight`. */
export interface PickedAdapter {
  id: string;
  weight?: number;
  te?: number;
  unet?: number;
}

/** The composer's whole state, held in the URL so a composition can be shared, reloaded and gone back to. */
export interface ComposerState {
  adapters: PickedAdapter[];
  prefix: string;
  suffix: string;
  negative: string;
  dialect?: NonNullable<ComposeRequestDto['dialect']>;
  triggerWords?: NonNullable<ComposeRequestDto['triggerWords']>;
  checkpointBaseModel?: string;
  weightCap?: number;
  checkBackend?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const num = (text: string | undefined): number | undefined => {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
};

/** `id:weight:te:unet` (empty parts omitted from the end) ↔ a picked adapter. */
export function encodePick(pick: PickedAdapter): string {
  const parts = [pick.id, pick.weight, pick.te, pick.unet].map((p) => (p === undefined ? '' : String(p)));
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join(':');
}

export function decodePick(text: string): PickedAdapter | null {
  const [id, weight, te, unet] = text.split(':');
  if (!UUID.test(id)) return null;
  const pick: PickedAdapter = { id };
  if (num(weight) !== undefined) pick.weight = num(weight);
  if (num(te) !== undefined) pick.te = num(te);
  if (num(unet) !== undefined) pick.unet = num(unet);
  return pick;
}

export function parseComposer(params: URLSearchParams): ComposerState {
  const dialect = params.get('dialect');
  const trigger = params.get('triggerWords');
  const seen = new Set<string>();
  return {
    adapters: params
      .getAll('a')
      .map(decodePick)
      .filter((p): p is PickedAdapter => p !== null && !seen.has(p.id) && Boolean(seen.add(p.id))),
    prefix: params.get('prefix') ?? '',
    suffix: params.get('suffix') ?? '',
    negative: params.get('negative') ?? '',
    dialect: dialect === 'sdnext' || dialect === 'a1111' ? dialect : undefined,
    triggerWords: trigger === 'none' || trigger === 'trained' || trigger === 'chosen' ? trigger : undefined,
    checkpointBaseModel: params.get('base')?.trim() || undefined,
    weightCap: num(params.get('weightCap') ?? undefined),
    checkBackend: params.get('checkBackend') || undefined,
  };
}

export function composerParams(state: ComposerState): URLSearchParams {
  const params = new URLSearchParams();
  for (const pick of state.adapters) params.append('a', encodePick(pick));
  if (state.prefix) params.set('prefix', state.prefix);
  if (state.suffix) params.set('suffix', state.suffix);
  if (state.negative) params.set('negative', state.negative);
  if (state.dialect) params.set('dialect', state.dialect);
  if (state.triggerWords) params.set('triggerWords', state.triggerWords);
  if (state.checkpointBaseModel) params.set('base', state.checkpointBaseModel);
  if (state.weightCap !== undefined) params.set('weightCap', String(state.weightCap));
  if (state.checkBackend) params.set('checkBackend', state.checkBackend);
  return params;
}

/** The `POST /compose` body for this state; null with no adapter picked (the API would use the active ones). */
export function toComposeRequest(state: ComposerState): ComposeRequestDto | null {
  if (state.adapters.length === 0) return null;
  const adapters: ComposeAdapterDto[] = state.adapters.map((p) => ({ ...p }));
  const request: ComposeRequestDto = { adapters };
  if (state.prefix) request.prefix = state.prefix;
  if (state.suffix) request.suffix = state.suffix;
  if (state.negative) request.negative = state.negative;
  if (state.dialect) request.dialect = state.dialect;
  if (state.triggerWords) request.triggerWords = state.triggerWords;
  if (state.checkpointBaseModel) request.checkpointBaseModel = state.checkpointBaseModel;
  if (state.weightCap !== undefined) request.weightCap = state.weightCap;
  if (state.checkBackend) request.checkBackend = state.checkBackend;
  return request;
}

export function addPicks(state: ComposerState, ids: string[]): ComposerState {
  const known = new Set(state.adapters.map((p) => p.id));
  const fresh = ids.filter((id) => !known.has(id) && Boolean(known.add(id))).map((id) => ({ id }));
  return { ...state, adapters: [...state.adapters, ...fresh] };
}

export function updatePick(state: ComposerState, id: string, patch: Partial<Omit<PickedAdapter, 'id'>>): ComposerState {
  return { ...state, adapters: state.adapters.map((p) => (p.id === id ? { ...p, ...patch } : p)) };
}

export function removePick(state: ComposerState, id: string): ComposerState {
  return { ...state, adapters: state.adapters.filter((p) => p.id !== id) };
}

/** The composer's address with these adapters added to an empty composition. */
export function composerUrlWith(ids: string[]): string {
  return `/composer?${composerParams(addPicks(parseComposer(new URLSearchParams()), ids)).toString()}`;
}
