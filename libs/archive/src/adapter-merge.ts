import { isDeepStrictEqual } from 'node:util';
import { type AdapterEntity, AdapterUserField, deriveUserColumns } from '@app/adapters';

/** What to do with a user field edited on both sides with different values. */
export enum ConflictPolicy {
  /** The local edit stays; fields only the archive edited are still taken. */
  KeepMine = 'keep-mine',
  /** The archive's edit replaces the local one. */
  TakeTheirs = 'take-theirs',
  /** An adapter with any conflict is left exactly as it is. */
  Skip = 'skip',
}

export enum MergeOutcome {
  /** No local adapter matches: the archive's row is inserted. */
  Add = 'add',
  /** Matched; the archive's edits fill fields the local adapter has not edited. */
  Merge = 'merge',
  /** Matched; both sides edited a field differently (the policy decides). */
  Conflict = 'conflict',
  /** Matched; nothing to take. */
  Unchanged = 'unchanged',
}

export interface AdapterMerge {
  outcome: MergeOutcome;
  /** Fields the archive edited and the local adapter did not (or holds the same value in). */
  take: AdapterUserField[];
  /** Fields both edited, with different values. */
  conflicts: AdapterUserField[];
}

/** Compares the user fields of a local adapter with the archive's copy of it. */
export function compareUserFields(mine: AdapterEntity, theirs: AdapterEntity): AdapterMerge {
  const take: AdapterUserField[] = [];
  const conflicts: AdapterUserField[] = [];
  for (const field of theirs.userEdited ?? []) {
    if (isDeepStrictEqual(mine[field], theirs[field])) continue;
    (mine.userEdited.includes(field) ? conflicts : take).push(field);
  }
  const outcome =
    conflicts.length > 0 ? MergeOutcome.Conflict : take.length > 0 ? MergeOutcome.Merge : MergeOutcome.Unchanged;
  return { outcome, take, conflicts };
}

/** The fields a policy applies for one comparison; empty when nothing is written. */
export function fieldsToApply(merge: AdapterMerge, policy: ConflictPolicy): AdapterUserField[] {
  if (merge.conflicts.length === 0) return merge.take;
  switch (policy) {
    case ConflictPolicy.KeepMine:
      return merge.take;
    case ConflictPolicy.TakeTheirs:
      return [...merge.take, ...merge.conflicts];
    case ConflictPolicy.Skip:
      return [];
  }
}

/** The columns to write on `mine` for `fields` taken from `theirs`, with the values derived from them. */
export function mergedColumns(
  mine: AdapterEntity,
  theirs: AdapterEntity,
  fields: AdapterUserField[],
  now: Date,
): Partial<AdapterEntity> {
  const next: AdapterEntity = { ...mine };
  const target = next as unknown as Record<AdapterUserField, unknown>;
  for (const field of fields) target[field] = theirs[field];
  next.userEdited = [...new Set([...mine.userEdited, ...fields])];
  const values: Partial<AdapterEntity> = { userEdited: next.userEdited, updatedAt: now };
  for (const field of fields) (values as Record<string, unknown>)[field] = next[field];
  deriveUserColumns(next);
  values.sortName = next.sortName;
  values.nsfwMax = next.nsfwMax;
  values.searchText = next.searchText;
  return values;
}

export const ALL_USER_FIELDS = Object.values(AdapterUserField);
