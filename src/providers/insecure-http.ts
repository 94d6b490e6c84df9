// Plaintext http to a secret manager carries credentials (Vault tokens, JWTs, AWS
// signatures) and secret values unencrypted, so providers refuse http:// addresses unless
// the operator runs with --insecure-allow-http, which is meant for local development
// stacks only. Both providers share this check and its message.
import { InvalidSpecError } from '../errors.js';

export interface TransportOptions {
  /** Accept http:// addresses (the operator's --insecure-allow-http). Default false. */
  allowInsecureHttp?: boolean;
}

/** Throws InvalidSpecError when `url` is http:// and plaintext is not allowed. */
export function checkPlaintext(field: string, url: URL, opts: TransportOptions): void {
  if (url.protocol !== 'http:' || opts.allowInsecureHttp) return;
  throw new InvalidSpecError(
    `${field} "http://${url.host}" uses plaintext http: credentials and secret values would travel unencrypted. ` +
      'Use https, or run the operator with --insecure-allow-http for a development stack',
  );
}
