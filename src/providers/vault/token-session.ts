// The life of one provider's Vault token: log in lazily on first use (one login even when
// many reads start at once), renew at ~2/3 of the TTL while Vault allows it, log in again
// when renewal fails or the token expired or was refused, and revoke what we created on
// close. Renewal timers are unref()'d so they never keep the process alive.
import { constantTimeEqual } from '../../crypto/compare.js';
import { SourceUnavailableError } from '../../errors.js';
import type { Authenticator } from './auth.js';
import type { VaultHttp } from './client.js';
import type { VaultOperation } from './errors.js';

export interface TokenSessionOptions {
  /** How errors name the source. */
  source: string;
  now: () => Date;
  onCall?: (operation: VaultOperation, result: 'success' | 'error') => void;
  /** Fraction of the TTL after which we renew (default 2/3). */
  renewFraction?: number;
}

interface Current {
  token: string;
  owned: boolean;
  renewable: boolean;
  ttlMs: number;
  /** Epoch ms; undefined for a token without a known expiry. */
  expiresAt: number | undefined;
}

/** Do not start a read with a token this close to its expiry (bounded, for short TTLs). */
const MAX_EXPIRY_SKEW_MS = 5_000;

export class TokenSession {
  private current: Current | undefined;
  private pending: Promise<Current> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private readonly renewFraction: number;

  constructor(
    private readonly http: VaultHttp,
    private readonly auth: Authenticator,
    private readonly opts: TokenSessionOptions,
  ) {
    this.renewFraction = opts.renewFraction ?? 2 / 3;
  }

  /** A token to use now: the current one while it is valid, else a fresh login. */
  async token(): Promise<string> {
    this.assertOpen();
    const c = this.current;
    if (c && this.usable(c)) return c.token;
    if (c) this.drop(c);
    this.pending ??= this.login().finally(() => {
      this.pending = undefined;
    });
    return (await this.pending).token;
  }

  /**
   * Vault no longer honours `token` (a 403 that lookup-self confirmed, or could not rule
   * out): forget it so the next token() logs in again. A token we created is revoked
   * first (best effort), so it does not linger until its TTL should it still be valid.
   * A no-op when another caller already replaced it.
   */
  async invalidate(token: string): Promise<void> {
    const c = this.current;
    if (!c || !constantTimeEqual(c.token, token)) return;
    this.drop(c);
    if (c.owned) await this.revoke(c.token);
  }

  /** Stops renewal and revokes the token we created. Idempotent; never throws. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      // A login in flight revokes its own token when it sees the session closed.
      await this.pending?.catch(() => undefined);
      const c = this.current;
      this.current = undefined;
      if (c?.owned) await this.revoke(c.token);
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) {
      throw new SourceUnavailableError(`${this.opts.source}: this Vault client was closed; the next sync uses a new one`);
    }
  }

  private usable(c: Current): boolean {
    if (c.expiresAt === undefined) return true;
    const skew = Math.min(MAX_EXPIRY_SKEW_MS, c.ttlMs / 10);
    return this.opts.now().getTime() < c.expiresAt - skew;
  }

  private drop(c: Current): void {
    if (this.current !== c) return;
    this.current = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async login(): Promise<Current> {
    let res;
    try {
      res = await this.auth.login();
      this.opts.onCall?.('login', 'success');
    } catch (err) {
      this.opts.onCall?.('login', 'error');
      throw err;
    }
    if (this.closing) {
      if (res.owned) await this.revoke(res.token);
      this.assertOpen();
    }
    const ttlMs = res.ttlSeconds * 1000;
    const c: Current = {
      token: res.token,
      owned: res.owned,
      renewable: res.renewable,
      ttlMs,
      expiresAt: ttlMs > 0 ? this.opts.now().getTime() + ttlMs : undefined,
    };
    this.current = c;
    this.scheduleRenewal(c);
    return c;
  }

  private scheduleRenewal(c: Current): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!c.owned || !c.renewable || c.ttlMs <= 0) return;
    this.timer = setTimeout(() => void this.renew(c), Math.max(1, Math.floor(c.ttlMs * this.renewFraction)));
    this.timer.unref();
  }

  private async renew(c: Current): Promise<void> {
    if (this.current !== c || this.closing) return;
    const previousTtlMs = c.ttlMs;
    try {
      const res = await this.http.write('auth/token/renew-self', {}, c.token);
      this.opts.onCall?.('renew', 'success');
      const auth = (res as { auth?: { lease_duration?: unknown; renewable?: unknown } } | null)?.auth;
      const ttl = typeof auth?.lease_duration === 'number' ? auth.lease_duration : 0;
      if (this.current !== c || this.closing) return;
      if (ttl <= 0) {
        this.drop(c);
        return;
      }
      c.ttlMs = ttl * 1000;
      c.expiresAt = this.opts.now().getTime() + c.ttlMs;
      c.renewable = auth?.renewable === true;
      // A shorter TTL than before means Vault capped it at the token's max TTL: renewing
      // again cannot extend it, so let it run out and log in again when it is used.
      if (c.ttlMs >= previousTtlMs) this.scheduleRenewal(c);
      else this.timer = undefined;
    } catch {
      this.opts.onCall?.('renew', 'error');
      this.drop(c); // the next call logs in again
    }
  }

  private async revoke(token: string): Promise<void> {
    try {
      await this.http.write('auth/token/revoke-self', {}, token);
      this.opts.onCall?.('revoke', 'success');
    } catch {
      this.opts.onCall?.('revoke', 'error'); // it expires on its own at the end of its TTL
    }
  }
}
