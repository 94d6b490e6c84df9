// The manager starts and stops everything the operator runs, in the right order (after
// controller-runtime's manager): caches first, then — only while leading, when leader
// election is on — the controllers. On stop: controllers finish their in-flight work,
// cleanup hooks run (e.g. revoking credentials), the lease is released, then caches and
// servers stop. Losing the lease stops the process: writes are already fenced by
// isLeader(), and a fresh process is the simplest correct way back in.

export interface Runnable {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

export interface Cache extends Runnable {
  waitForSync(signal?: AbortSignal): Promise<void>;
}

export interface Elector {
  run(): Promise<void>;
  stop(opts: { release?: boolean }): Promise<void>;
}

export interface ManagerHooks {
  /** Leadership changes, for logs and metrics. */
  onLeading?(leading: boolean): void;
  onStopping?(reason: string): void;
}

export class Manager {
  private readonly servers: Runnable[] = [];
  private readonly caches: Cache[] = [];
  private readonly controllers: Runnable[] = [];
  private readonly cleanups: (() => Promise<void>)[] = [];
  private elector: Elector | undefined;
  private controllersStarted = false;
  private synced = false;
  private stopping: Promise<void> | undefined;
  private exitCode = 0;
  private resolveDone!: (code: number) => void;
  /** Resolves with the process exit code once everything has stopped. */
  readonly done = new Promise<number>((r) => (this.resolveDone = r));

  constructor(private readonly hooks: ManagerHooks = {}) {}

  addServer(r: Runnable): this {
    this.servers.push(r);
    return this;
  }
  addCache(c: Cache): this {
    this.caches.push(c);
    return this;
  }
  /** Controllers run only while this replica leads (always, without an elector). */
  addController(r: Runnable): this {
    this.controllers.push(r);
    return this;
  }
  /** Runs after the controllers stopped and before the lease is released. */
  addCleanup(fn: () => Promise<void>): this {
    this.cleanups.push(fn);
    return this;
  }

  /** The elector must call `leading(true|false)` (see startedLeading / stoppedLeading). */
  useElector(e: Elector): this {
    this.elector = e;
    return this;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  async start(): Promise<void> {
    for (const s of this.servers) await s.start();
    for (const c of this.caches) await c.start();
    await Promise.all(this.caches.map((c) => c.waitForSync()));
    this.synced = true;
    if (this.elector) void this.elector.run();
    else this.startedLeading();
  }

  startedLeading(): void {
    if (this.controllersStarted || this.stopping) return;
    this.controllersStarted = true;
    this.hooks.onLeading?.(true);
    for (const c of this.controllers) void c.start();
  }

  /** Called by the elector when leadership ends; during our own stop() it is expected and ignored. */
  stoppedLeading(): void {
    if (this.stopping) return;
    this.hooks.onLeading?.(false);
    void this.stop('lost leadership', 1);
  }

  stop(reason: string, exitCode = 0): Promise<void> {
    if (this.stopping) return this.stopping;
    this.exitCode = exitCode;
    this.hooks.onStopping?.(reason);
    this.stopping = (async () => {
      await Promise.all(this.controllers.map((c) => c.stop()));
      for (const fn of this.cleanups) await fn().catch(() => undefined);
      if (this.elector) await this.elector.stop({ release: true });
      await Promise.all(this.caches.map((c) => c.stop()));
      await Promise.all(this.servers.map((s) => s.stop()));
      this.resolveDone(this.exitCode);
    })();
    return this.stopping;
  }
}
