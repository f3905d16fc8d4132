import { type FieldProblem, InvalidInputError } from '@app/core';

/**
 * Reads a backend's free-form `params` object field by field, collecting every problem with its field named
 * `params.<field>`, and refusing fields the backend does not know.
 */
export class ParamsReader {
  private readonly problems: FieldProblem[] = [];

  constructor(
    private readonly params: Record<string, unknown>,
    known: readonly string[],
  ) {
    for (const key of Object.keys(params)) {
      if (!known.includes(key)) this.problem(key, 'unknown field');
    }
  }

  problem(field: string, message: string): void {
    this.problems.push({ field: `params.${field}`, message });
  }

  has(field: string): boolean {
    return this.params[field] !== undefined;
  }

  string(field: string, opts: { required?: boolean; maxLength: number }): string | undefined {
    const v = this.params[field];
    if (v === undefined) {
      if (opts.required) this.problem(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0 || v.length > opts.maxLength) {
      this.problem(field, `must be a non-empty string of at most ${opts.maxLength} characters`);
      return undefined;
    }
    return v;
  }

  int(field: string, opts: { min: number; max: number }): number | undefined {
    const v = this.params[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < opts.min || v > opts.max) {
      this.problem(field, `must be an integer between ${opts.min} and ${opts.max}`);
      return undefined;
    }
    return v;
  }

  bool(field: string): boolean | undefined {
    const v = this.params[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.problem(field, 'must be a boolean');
      return undefined;
    }
    return v;
  }

  stringArray(field: string, opts: { maxItems: number; maxLength: number }): string[] | undefined {
    const v = this.params[field];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length > opts.maxItems) {
      this.problem(field, `must be an array of at most ${opts.maxItems} strings`);
      return undefined;
    }
    const bad = v.findIndex((item) => typeof item !== 'string' || item.length > opts.maxLength);
    if (bad >= 0) {
      this.problem(`${field}[${bad}]`, `must be a string of at most ${opts.maxLength} characters`);
      return undefined;
    }
    return v as string[];
  }

  /** Throws one `InvalidInputError` listing every problem, if any. */
  done(): void {
    if (this.problems.length === 0) return;
    throw new InvalidInputError(
      'invalid_delivery_params',
      this.problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      this.problems,
    );
  }
}
