/** What happened. */
export enum ActivityKind {
  Import = 'import',
  Generation = 'generation',
  Delivery = 'delivery',
  Edit = 'edit',
}

export const ACTIVITY_LIMITS = { maxLimit: 100, defaultLimit: 30 } as const;

/** One line of the activity feed. */
export interface ActivityItem {
  kind: ActivityKind;
  /** The row's id: the import run, generation job, delivery job or adapter edit. */
  id: string;
  /** When it was asked for (imports, generations, deliveries) or done (edits). */
  at: Date;
  /** The job's current status; for edits `edit` or `delete`. */
  status: string;
  /** One line for people: counts, prompt, adapter name. */
  summary: string;
  /** The adapter an edit touched. */
  adapterId: string | null;
  /** The generation's backend or the delivery's mode. */
  target: string | null;
  /** Edited user fields. */
  fields: string[];
}

export interface ActivityQuery {
  kinds?: ActivityKind[];
  limit?: number;
  cursor?: string;
}

export interface ActivityPage {
  items: ActivityItem[];
  nextCursor: string | null;
}
