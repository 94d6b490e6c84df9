// The newest version of each KEK this process knows of. Every mint and re-wrap tells it
// (the key service answers with the version it used), and the KEK watcher asks the key
// service once per KEK per interval; reconciles only read it. A version learned here that
// differs from what an envelope holds makes that envelope due for a re-wrap.

export class KekVersions {
  private readonly latest = new Map<string, string>();

  get(kekId: string): string | undefined {
    return this.latest.get(kekId);
  }

  /** Records `version` as the newest of `kekId`; true when that changed what was known. */
  observe(kekId: string, version: string): boolean {
    if (this.latest.get(kekId) === version) return false;
    this.latest.set(kekId, version);
    return true;
  }

  forget(kekId: string): void {
    this.latest.delete(kekId);
  }

  ids(): string[] {
    return [...this.latest.keys()];
  }
}
