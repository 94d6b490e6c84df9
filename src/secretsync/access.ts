// Which namespaces may read through a source. A SecretSource serves its own namespace
// only; a ClusterSecretSource serves the namespaces its allowedNamespaces or
// namespaceSelector admit, and with neither rule it serves none.
import type { ClusterSecretSource, LabelSelector } from '../api/types.js';

export function matchesSelector(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const val = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(val ?? '')) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(val ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export function admitsNamespace(src: ClusterSecretSource, namespace: string, labels: Record<string, string> | undefined): boolean {
  if (src.spec.allowedNamespaces?.includes(namespace)) return true;
  const sel = src.spec.namespaceSelector;
  // An empty selector ({}) would match everything; we require at least one requirement.
  const hasRules = !!sel && (Object.keys(sel.matchLabels ?? {}).length > 0 || (sel.matchExpressions ?? []).length > 0);
  return hasRules && labels !== undefined && matchesSelector(sel, labels);
}
