// The composition root's wiring, one file per controller or concern, so src/main.ts reads
// in a minute: core.ts (start-up reads, caches, reader, writer, providers), informers.ts
// (the eleven caches, one informer factory), secretsyncs.ts, sources.ts and
// uninjected-pods.ts (a controller each, with the events that feed it), webhook.ts,
// process.ts (endpoints, leader election), test-faults.ts and test-admission-record.ts. Like main.ts it may import
// any folder; nothing imports it but main.ts. It never imports @kubernetes/client-node:
// Kubernetes clients come from src/kube/clients.ts.
export { buildCore, type Core, type CoreInputs } from './core.js';
export { allInformers, newInformer, operatorInformers, type OperatorInformers } from './informers.js';
export { addEndpoints, leaderElector } from './process.js';
export { wireSecretSyncs } from './secretsyncs.js';
export { wireSources } from './sources.js';
export { admissionRecorder } from './test-admission-record.js';
export { testFaults } from './test-faults.js';
export { wireUninjectedPods } from './uninjected-pods.js';
export { webhookServing } from './webhook.js';
