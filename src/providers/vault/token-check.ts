// What a 403 means. Vault answers 403 both for a token it no longer honours (expired,
// revoked) and for a valid token whose policy does not cover the path. Only the first
// calls for a new login; the second is the failure of that one read, and logging in again
// (which revokes the token every other sync of the source is using) cannot help.
// auth/token/lookup-self tells them apart: Vault's `default` policy allows it, so it
// answers 403 only for a token that is not valid, or one whose policies leave out
// `default`; both are treated as "not valid", which is what every 403 meant before.
// Checks are single-flight per token and a definite verdict is kept briefly, so a burst of
// denied reads costs one lookup, not one each.
import type { VaultHttp } from './client.js';
import { statusOf, type VaultOperation } from './errors.js';

export interface TokenCheckOptions {
  now: () => Date;
  /** How long a definite verdict is reused (default 5 s). */
  verdictTtlMs?: number;
  onCall?: (operation: VaultOperation, result: 'success' | 'error') => void;
}

const DEFAULT_VERDICT_TTL_MS = 5_000;

export class TokenCheck {
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private readonly verdicts = new Map<string, { valid: boolean; until: number }>();
  private readonly ttlMs: number;

  constructor(
    private readonly http: VaultHttp,
    private readonly opts: TokenCheckOptions,
  ) {
    this.ttlMs = opts.verdictTtlMs ?? DEFAULT_VERDICT_TTL_MS;
  }

  /**
   * Whether Vault still honours `token`. False when lookup-self is refused (an invalid
   * token, or a policy without `default`) or fails, so the caller falls back to a new login.
   */
  isValid(token: string): Promise<boolean> {
    const now = this.opts.now().getTime();
    for (const [t, v] of this.verdicts) if (v.until <= now) this.verdicts.delete(t);
    const known = this.verdicts.get(token);
    if (known) return Promise.resolve(known.valid);
    let pending = this.inFlight.get(token);
    if (!pending) {
      pending = this.lookup(token).finally(() => this.inFlight.delete(token));
      this.inFlight.set(token, pending);
    }
    return pending;
  }

  /** Forgets every verdict (the provider was closed). */
  clear(): void {
    this.verdicts.clear();
  }

  private async lookup(token: string): Promise<boolean> {
    try {
      await this.http.read('auth/token/lookup-self', token);
      this.opts.onCall?.('lookup', 'success');
      this.remember(token, true);
      return true;
    } catch (err) {
      this.opts.onCall?.('lookup', 'error');
      const status = statusOf(err);
      // A definite "no" is kept; an outage is not a verdict on the token.
      if (status === 401 || status === 403) this.remember(token, false);
      return false;
    }
  }

  private remember(token: string, valid: boolean): void {
    this.verdicts.set(token, { valid, until: this.opts.now().getTime() + this.ttlMs });
  }
}
