import { pino, type Logger, type LevelWithSilent } from 'pino';
import { redactSecrets, redactValue } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** Human-readable output; defaults to true when stderr is a TTY. */
  pretty?: boolean;
  name?: string;
  /** Where lines go; defaults to stderr so stdout stays clean for command output (reports, JSON). */
  destination?: NodeJS.WritableStream;
}

/**
 * pino JSON logs with secrets redacted from every field and message. Pretty output (pino-pretty) only
 * when stderr is a TTY, so production workers always emit JSON.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const settings = {
    name: options.name ?? 'tandem',
    level: options.level ?? (process.env.TANDEM_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info',
    formatters: {
      log: (object: Record<string, unknown>) => redactValue(object) as Record<string, unknown>,
    },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg)));
      },
    },
    serializers: { err: (err: unknown) => redactValue(err) },
  };
  if (options.destination) return pino(settings, options.destination as pino.DestinationStream);
  if (pretty) return pino({ ...settings, transport: { target: 'pino-pretty', options: { colorize: true, destination: 2 } } });
  return pino(settings, pino.destination(2));
}
