
// ESM TypeScript through ts-jest (@kubernetes/client-node is ESM-only).
// Type checking is `npm run typecheck`; tsconfig's isolatedModules makes ts-jest only transpile.
/** @type {import('jest').Config['transform']} */
const transform = {
  '^.+\\.ts$': ['ts-jest', { useESM: true }],
};
/** @type {import('jest').Config} */
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
  testEnvironment: 'node',
  // The stack's data (.testenv/etcd/*.snap) is not ours to read as snapshots or modules.
  modulePathIgnorePatterns: ['<rootDir>/.testenv/', '<rootDir>/.testenv-reliability/', '<rootDir>/dist/'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/.testenv/', '<rootDir>/.testenv-reliability/', '<rootDir>/dist/'],
};

/** @type {import('jest').Config} */
const stack = {
  globalSetup: '<rootDir>/test/integration/global-setup.js',
  globalTeardown: '<rootDir>/test/integration/global-teardown.js',
  setupFilesAfterEnv: ['<rootDir>/test/integration/setup.ts'],
};
// Integration files that reach the whole cluster while they run, so no other file may run
// beside them: an operator without --namespace (it reconciles every namespace's SecretSyncs,
// and its webhook is sent every namespace's labelled pods); a MutatingWebhookConfiguration
// for every namespace whose server is down or absent under failurePolicy Fail (labelled pods
// anywhere are refused: the chart's, until the operator narrows it); or assertions on the
// status of a ClusterSecretSource, which every running operator writes. Project
// integration-alone runs them one at a time, after the rest.
const alone = [
  'chart/install',
  'chart/operator',
  // Hostile ClusterSecretSources (cluster-scoped): every operator running beside it would
  // reconcile them and report their failures in its logs and statuses.
  'operator/bad-input',
  'operator/fair-share',
  'operator/kek-scopes',
  'operator/scopes',
  'operator/tenant-aws-identity',
  // The chart installed for real: its operator pods and the node's CPU.
  'pods/operator-pods',
  // The chart installed for real, its leader killed, evicted and OOM-killed.
  'pods/faults',
  'webhook/serving',
];

/** @type {import('jest').Config} */
const config = {
  // The suite-wide leak scan's last step (test/integration/leak-reporter.js; idle in unit runs).
  reporters: ['default', '<rootDir>/test/integration/leak-reporter.js'],
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      ...common,
      ...stack,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      testPathIgnorePatterns: [...common.testPathIgnorePatterns, ...alone.map((f) => `<rootDir>/test/integration/${f}\\.test\\.ts$`)],
    },
    {
      ...common,
      ...stack,
      displayName: 'integration-alone',
      testMatch: alone.map((f) => `<rootDir>/test/integration/${f}.test.ts`),
    },
    // make test-reliability: faults (OpenBao, moto, the API server stopped and paused, etcd
    // compacted, the operator killed) on a stack of its own in .testenv-reliability/, which
    // its global setup starts and its teardown stops, so no other test file ever sees them
    // and `make test` may run meanwhile. Not part of make test; run with --runInBand.
    {
      ...common,
      displayName: 'reliability',
      globalSetup: '<rootDir>/test/reliability/global-setup.js',
      globalTeardown: '<rootDir>/test/reliability/global-teardown.js',
      setupFilesAfterEnv: ['<rootDir>/test/integration/setup.ts'],
      testMatch: ['<rootDir>/test/reliability/**/*.test.ts'],
    },
  ],
};

export default config;
