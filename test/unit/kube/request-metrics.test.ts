import { describe, expect, it } from '@jest/globals';
import { KubeConfig, RequestContext, HttpMethod } from '@kubernetes/client-node';
import { countRequests, noteWatch, requestKind } from '../../../src/kube/request-metrics.js';

describe('requestKind', () => {
  it.each([
    ['GET', 'https://k/api/v1/namespaces/a/secrets?labelSelector=x&limit=500', 'secrets', 'list'],
    ['GET', 'https://k/api/v1/secrets?limit=500', 'secrets', 'list'],
    ['GET', 'https://k/api/v1/namespaces/a/secrets/s1', 'secrets', 'get'],
    ['GET', 'https://k/api/v1/namespaces/a/secrets?watch=true', 'secrets', 'watch'],
    ['POST', 'https://k/api/v1/namespaces/a/secrets', 'secrets', 'create'],
    ['PATCH', 'https://k/apis/secretsync.io/v1alpha1/namespaces/a/secretsyncs/s1/status', 'secretsyncs/status', 'patch'],
    ['PUT', 'https://k/apis/coordination.k8s.io/v1/namespaces/a/leases/l', 'leases', 'update'],
    ['DELETE', 'https://k/api/v1/namespaces/a/secrets/s1', 'secrets', 'delete'],
    ['POST', 'https://k/api/v1/namespaces/a/serviceaccounts/sa/token', 'serviceaccounts/token', 'create'],
    ['GET', 'https://k/api/v1/namespaces/a', 'namespaces', 'get'],
    ['GET', 'https://k/apis/secretsync.io/v1alpha1/clustersecretsources', 'clustersecretsources', 'list'],
    ['POST', 'https://k/api/v1/namespaces/a/events', 'events', 'create'],
  ])('%s %s → %s %s', (method, url, resource, verb) => {
    expect(requestKind(method, url)).toEqual({ resource, verb });
  });
});

describe('countRequests', () => {
  it('counts each authenticated request and each watch of the counted config only', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const seen: string[] = [];
    countRequests(kc, (r, v) => seen.push(`${v} ${r}`));
    await kc.applySecurityAuthentication(new RequestContext('https://127.0.0.1:1/api/v1/namespaces/a/secrets/s', HttpMethod.GET));
    noteWatch(kc, '/apis/apps/v1/deployments');
    noteWatch(new KubeConfig(), '/api/v1/secrets');
    expect(seen).toEqual(['get secrets', 'watch deployments']);
  });
});
