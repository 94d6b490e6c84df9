// Socket-level error codes (Node's errno names) that mean "the secret manager could not be
// reached": every provider maps them to SourceUnavailable. Providers add their SDK's own.
export const SOCKET_ERROR_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
];
