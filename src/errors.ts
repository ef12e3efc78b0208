/**
 * Errors meant for people: each names the object at fault and how to fix it.
 * The CLI prints `message` (and `fix`) on one line each, without a stack trace.
 */
export class TandemError extends Error {
  readonly fix?: string;
  /** Process exit code the CLI uses: 1 = error. */
  readonly exitCode: number = 1;

  constructor(message: string, options: { fix?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TandemError';
    this.fix = options.fix;
  }
}

/** A check ran and found a problem (drift, incompatible schema, failed doctor check): exit code 2. */
export class ProblemFound extends TandemError {
  override readonly exitCode = 2;

  constructor(message: string, options: { fix?: string } = {}) {
    super(message, options);
    this.name = 'ProblemFound';
  }
}

export function describeError(error: unknown): string {
  if (error instanceof TandemError) return error.fix ? `${error.message}\n  fix: ${error.fix}` : error.message;
  if (error instanceof Error) return error.message;
  return error === undefined || error === null ? 'unknown error (no reason given)' : String(error);
}
