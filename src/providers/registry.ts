// The provider registry (after External Secrets Operator's): factories register under the
// name of their spec block; a source picks its factory by the one block it sets. It also
// caches one client per source, so a provider logs in once per token lifetime instead of
// once per reconcile. A client is replaced (and the old one closed, which revokes its
// token) when the source's uid or generation changes, i.e. when it was recreated or edited.
import { providerBlocks, type AnySource } from '../api/types.js';
import { InvalidSpecError } from '../errors.js';
import type { ProviderDeps, ProviderFactory, SecretProvider } from './provider.js';
import { sourceKey } from '../api/source-ref.js';

interface Entry {
  uid: string | undefined;
  generation: number | undefined;
  provider: SecretProvider;
}

export class ProviderRegistry {
  private readonly factories = new Map<string, ProviderFactory>();
  private readonly clients = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();

  /** Adds a factory. Registering one name twice is a wiring bug in the composition root. */
  register(factory: ProviderFactory): this {
    if (this.factories.has(factory.name)) throw new Error(`provider "${factory.name}" is registered twice`);
    this.factories.set(factory.name, factory);
    return this;
  }

  /** Names of the registered providers, in registration order. */
  names(): string[] {
    return [...this.factories.keys()];
  }

  /** The factory for the one provider block `source.spec` sets; InvalidSpecError if none or several. */
  factoryFor(source: AnySource): ProviderFactory {
    const set = providerBlocks(source.spec);
    const known = this.names().join(', ') || '(none registered)';
    const unknown = set.filter((k) => !this.factories.has(k));
    if (unknown.length > 0) {
      throw new InvalidSpecError(
        `${sourceKey(source)}: spec.${unknown[0]} is not a provider this operator supports: use one of ${known}`,
      );
    }
    if (set.length !== 1) {
      const found = set.length === 0 ? 'sets no provider block' : `sets ${set.map((k) => `spec.${k}`).join(' and ')}`;
      throw new InvalidSpecError(`${sourceKey(source)} ${found}: set exactly one of ${known}`);
    }
    return this.factories.get(set[0] as string) as ProviderFactory;
  }

  /** Semantic checks of the source's provider block; throws InvalidSpecError / ForbiddenError. */
  validate(source: AnySource, secretNamespace: string): void {
    this.factoryFor(source).validate(source, secretNamespace);
  }

  /**
   * Whether the syncs of `source` should refresh together (its provider batches reads);
   * false when the source names no single registered provider, which validation reports.
   */
  alignsRefreshes(source: AnySource): boolean {
    try {
      return this.factoryFor(source).alignRefreshes;
    } catch {
      return false;
    }
  }

  /**
   * The cached client of `source`, made (after validation) on first use and again whenever
   * the source's uid or generation differs from the cached one. `deps` are those of the
   * call that creates the client.
   */
  client(source: AnySource, deps: ProviderDeps): SecretProvider {
    const key = sourceKey(source);
    const cached = this.clients.get(key);
    if (cached && cached.uid === source.metadata.uid && cached.generation === source.metadata.generation) {
      return cached.provider;
    }
    if (cached) {
      this.clients.delete(key);
      this.retire(cached.provider);
    }
    const factory = this.factoryFor(source);
    factory.validate(source, deps.secretNamespace);
    const provider = factory.create(source, deps);
    this.clients.set(key, { uid: source.metadata.uid, generation: source.metadata.generation, provider });
    return provider;
  }

  /** Closes and forgets the client of a source (e.g. the source was deleted). */
  async evict(source: Pick<AnySource, 'kind' | 'metadata'>): Promise<void> {
    const key = sourceKey(source);
    const cached = this.clients.get(key);
    if (!cached) return;
    this.clients.delete(key);
    await this.retire(cached.provider);
  }

  /** Number of cached clients (for metrics and tests). */
  size(): number {
    return this.clients.size;
  }

  /** Closes every cached client and waits for clients being retired; the cache is empty after. */
  async closeAll(): Promise<void> {
    const entries = [...this.clients.values()];
    this.clients.clear();
    await Promise.all([...entries.map((e) => this.retire(e.provider)), ...this.closing]);
  }

  /** Closes a client in the background; closeAll waits for it. close() never throws here. */
  private retire(provider: SecretProvider): Promise<void> {
    const p = provider.close().catch(() => undefined);
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
    return p;
  }
}
