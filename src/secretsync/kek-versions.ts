// The newest version of each KEK this process knows of. Every mint and re-wrap tells it
// (the key service answers with the version it used), and the KEK watcher asks the key
// service once per KEK per interval; reconciles only read it. A version learned here that
// differs from what an envelope holds makes that envelope due for a re-wrap. Whoever learns
// of a move first (a mint, a re-wrap, a force-sync's check, the watcher), `onMoved` hears of
// it, so every SecretSync of that KEK is looked at now, not at its next refresh.

export class KekVersions {
  private readonly latest = new Map<string, string>();

  /** `onMoved`: a KEK's known version changed to another one (not called when it is first learned). */
  constructor(private readonly onMoved?: (kekId: string) => void) {}

  get(kekId: string): string | undefined {
    return this.latest.get(kekId);
  }

  /** Records `version` as the newest of `kekId`; true when that changed what was known. */
  observe(kekId: string, version: string): boolean {
    const known = this.latest.get(kekId);
    if (known === version) return false;
    this.latest.set(kekId, version);
    if (known !== undefined) this.onMoved?.(kekId);
    return true;
  }

  forget(kekId: string): void {
    this.latest.delete(kekId);
  }

  ids(): string[] {
    return [...this.latest.keys()];
  }
}
