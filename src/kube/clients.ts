// The operator process's Kubernetes clients, built once from one kubeconfig: the typed API
// clients, a ListWatch maker for the informers, and the KubeConfig itself for the adapters
// that take it (Lease store, API audiences). Every request goes through one keep-alive pool
// per API server (connections.ts) and is counted (request-metrics.ts). The composition root
// (src/main.ts, src/wiring/) uses these instead of importing @kubernetes/client-node.
import {
  AdmissionregistrationV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1OwnerReference,
} from '@kubernetes/client-node';
import type { ListWatch } from '../runtime/informer-types.js';
import { shareConnections } from './connections.js';
import { listWatch, type ListWatchOptions } from './list-watch.js';
import { countRequests, type OnRequest } from './request-metrics.js';

/** The owner reference the operator puts on what it creates in its namespace (--owner-deployment). */
export type KubeOwnerReference = V1OwnerReference;

/**
 * `path` (--kubeconfig) when given; otherwise client-node's loadFromDefault: $KUBECONFIG
 * (several files merged), else ~/.kube/config, else the in-cluster service account (when
 * its token file is mounted), else http://localhost:8080. `secretsync operator --help` says so.
 */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  rbac: RbacAuthorizationV1Api;
  apps: AppsV1Api;
  admission: AdmissionregistrationV1Api;
  /** A list+watch of one collection, for an Informer. */
  listWatch<T>(opts: ListWatchOptions): ListWatch<T>;
}

export function kubeClients(kc: KubeConfig, onRequest: OnRequest): KubeClients {
  shareConnections(kc);
  countRequests(kc, onRequest);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    rbac: kc.makeApiClient(RbacAuthorizationV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    admission: kc.makeApiClient(AdmissionregistrationV1Api),
    listWatch: <T>(opts: ListWatchOptions) => listWatch<T>(kc, opts),
  };
}
