// Structured JSON logs (pino) that cannot carry a secret: known secret-bearing paths are
// censored by pino's redaction, and every value logged under a key that smells of a
// credential is replaced by the serializer below. Callers log names and ids, never data.
// `format: 'text'` renders the same (already redacted) records as readable lines.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { textDestination, type LogFormat } from './log-text.js';

export type { Logger };

const CENSOR = '[redacted]';

/** Paths pino redacts wherever they appear (one and two levels deep, and in `err`). */
export const REDACT_PATHS = [
  'token',
  'password',
  'secret',
  'value',
  'values',
  'data',
  'stringData',
  'jwt',
  'secretId',
  'secret_id',
  'clientToken',
  'client_token',
  'authorization',
  'headers.authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.value',
  '*.values',
  '*.data',
  '*.stringData',
  '*.jwt',
  '*.secret_id',
  '*.client_token',
  '*.headers.authorization',
  '*.headers["x-vault-token"]',
  'err.config',
  'err.response',
  'err.request',
];

export interface LoggerConfig {
  level?: string;
  destination?: DestinationStream;
  base?: Record<string, unknown>;
  /** json (default): one JSON object a line; text: `time LEVEL message key=value`, for a terminal. */
  format?: LogFormat;
  /** text format only: colour the level (the caller knows whether stdout is a terminal). */
  color?: boolean;
}

export function createLogger(cfg: LoggerConfig = {}): Logger {
  const opts: LoggerOptions = {
    level: cfg.level ?? 'info',
    base: cfg.base ?? { name: 'secretsync' },
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: safeError },
  };
  if (cfg.format === 'text') {
    return pino(opts, textDestination(cfg.destination ?? process.stdout, { color: cfg.color ?? false }));
  }
  return cfg.destination ? pino(opts, cfg.destination) : pino(opts);
}

/**
 * Errors are logged by class, code and message only: SDK errors carry request configs,
 * headers (tokens) and response bodies (values), none of which may reach a log.
 */
export function safeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err).slice(0, 300) };
  const e = err as Error & { code?: unknown; reason?: unknown; retryable?: unknown };
  return {
    type: e.name,
    message: e.message,
    ...(typeof e.code === 'string' || typeof e.code === 'number' ? { code: e.code } : {}),
    ...(typeof e.reason === 'string' ? { reason: e.reason } : {}),
    ...(typeof e.retryable === 'boolean' ? { retryable: e.retryable } : {}),
  };
}
