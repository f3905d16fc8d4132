import { client } from './generated/client.gen';

/** The one place that configures how the generated client reaches the server: same origin, session cookie included. */
export function configureClient(): void {
  client.setConfig({ baseUrl: window.location.origin, credentials: 'same-origin' });
}

export interface FieldError {
  field: string;
  message: string;
}

/** What the API said went wrong: its message, and the fields at fault when it named them. */
export interface ApiProblem {
  status?: number;
  message: string;
  code?: string;
  fields: FieldError[];
}

const isFieldList = (value: unknown): value is FieldError[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null && 'field' in v && 'message' in v);

/** Reads an error thrown by the generated client (the API's JSON error body) or by the network. */
export function toProblem(error: unknown): ApiProblem {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const body = error as { statusCode?: unknown; message: unknown; code?: unknown; details?: unknown };
    return {
      status: typeof body.statusCode === 'number' ? body.statusCode : undefined,
      message: String(body.message),
      code: typeof body.code === 'string' ? body.code : undefined,
      fields: isFieldList(body.details) ? body.details : [],
    };
  }
  return { message: typeof error === 'string' && error ? error : 'The server could not be reached', fields: [] };
}

/** The message for one field (matching `field` or `body.field` / `field[0]`), if the API named it. */
export function fieldMessage(problem: ApiProblem | null | undefined, field: string): string | undefined {
  return problem?.fields.find((f) => {
    const name = f.field.replace(/^(body|query|params)\./, '');
    return name === field || name.startsWith(`${field}[`) || name.startsWith(`${field}.`);
  })?.message;
}
