// The Deployment that runs the operator (--owner-deployment, set by the chart): the Lease and
// the Secrets the operator creates in its own namespace name it as their owner, so deleting
// the Deployment (helm uninstall) lets the garbage collector remove them too.
import type { AppsV1Api, V1OwnerReference } from '@kubernetes/client-node';
import { isNotFound, kubeError } from './errors.js';

export async function deploymentOwner(apps: AppsV1Api, namespace: string, name: string): Promise<V1OwnerReference> {
  let uid: string | undefined;
  try {
    uid = (await apps.readNamespacedDeployment({ namespace, name })).metadata?.uid;
  } catch (err) {
    if (isNotFound(err)) throw new Error(`--owner-deployment: Deployment ${namespace}/${name} does not exist; name the Deployment that runs the operator, or leave the flag out`);
    throw kubeError(`reading Deployment ${namespace}/${name} (--owner-deployment)`, err);
  }
  if (!uid) throw new Error(`--owner-deployment: Deployment ${namespace}/${name} came back without a uid`);
  // Not a controller, and not blocking the Deployment's deletion: only a link for the garbage collector.
  return { apiVersion: 'apps/v1', kind: 'Deployment', name, uid, controller: false, blockOwnerDeletion: false };
}
