// Structured JSON logs (pino) that cannot carry a secret: every value logged under a key
// that holds secret material (REDACT_PATHS, at the top level and one level down) is
// censored by pino's redaction, and errors are reduced to type, code and message
// (safeError). Callers log names and ids, never data.
// Names are not values: an object's name goes under a key that says it is a name
// (NAME_KEYS: `secretName`, `secretsync`, `source`, ...), which is never redacted, so a
// line says which Secret it is about. A name logged under a redacted key (`secret`) is
// hidden as if it were a value; that fails safe, and a unit test finds such calls in src/.
// `format: 'text'` renders the same (already redacted) records as readable lines.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { textDestination, type LogFormat } from './log-text.js';

export type { Logger };

const CENSOR = '[redacted]';

/**
 * Keys whose values are secret material wherever they are logged (top level and one level
 * down): credentials, and the shapes values take in the SDKs' answers (Vault's `data`,
 * AWS's `SecretString` / `SecretBinary` / `Plaintext`). `secret` is one: a bare "secret"
 * may be a value, so a Secret's *name* is logged as `secretName`.
 */
export const SECRET_KEYS = [
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
  'privateKey',
  'SecretString',
  'SecretBinary',
  'Plaintext',
  'plaintext',
] as const;

/**
 * Keys that name objects, never redacted: what a log line is about. A Secret's name is
 * `secretName`, never `secret` (a SECRET_KEYS member).
 */
export const NAME_KEYS = ['name', 'namespace', 'secretName', 'secretsync', 'source', 'config'] as const;

/** Paths pino redacts wherever they appear (one and two levels deep, and in `err`). */
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  'headers.authorization',
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
