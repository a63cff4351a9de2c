/** Any pino-compatible logger: level methods taking an object, then a message. */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export type LogFields = {
  operation?: string;
  outcome?: string;
  durationMs?: number;
  attempt?: number;
  status?: number;
  code?: string;
  errno?: string;
  reason?: string;
  delayMs?: number;
  result?: string;
  store?: string;
  message?: string;
};

/** What core and plugins log through: only the allow-listed fields above ever reach the user's logger. */
export interface SafeLogger {
  readonly enabled: boolean;
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

const ALLOWED: readonly (keyof LogFields)[] = [
  'operation', 'outcome', 'durationMs', 'attempt', 'status', 'code', 'errno', 'reason', 'delayMs', 'result', 'store', 'message',
];

function pick(fields: LogFields): LogFields {
  const out: Record<string, unknown> = {};
  for (const key of ALLOWED) {
    const value = fields[key];
    // Only primitives pass: an object could smuggle a request, a URL or a config with secrets.
    if (value !== undefined && (typeof value === 'string' || typeof value === 'number')) out[key] = value;
  }
  return out;
}

const noop = (): void => {};

export function createSafeLogger(logger: Logger | undefined): SafeLogger {
  if (!logger) return { enabled: false, debug: noop, info: noop, warn: noop, error: noop };
  return {
    enabled: true,
    debug: (fields, message) => logger.debug(pick(fields), message),
    info: (fields, message) => logger.info(pick(fields), message),
    warn: (fields, message) => logger.warn(pick(fields), message),
    error: (fields, message) => logger.error(pick(fields), message),
  };
}
