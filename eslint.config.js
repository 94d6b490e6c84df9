import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const kubeOnly = { name: '@kubernetes/client-node', message: 'Only src/kube/ and src/main.ts talk to Kubernetes.' };

const vaultOnly = { name: 'node-vault', message: 'Only src/providers/vault/client.ts imports node-vault.' };
const awsOnly = {
  group: ['@aws-sdk/*'],
  message: 'Only src/providers/aws/client.ts imports the AWS SDK (and src/providers/aws/kms.ts, @aws-sdk/client-kms).',
};
const kmsOnly = { group: ['@aws-sdk/*', '!@aws-sdk/client-kms'], message: 'The KMS adapter imports only @aws-sdk/client-kms.' };

// The folder matrix of docs/architecture.md (issue 20): layers from inner to outer; a
// folder may import only from the layers before it (and itself). src/main.ts, src/cli.ts,
// src/flags.ts and src/wiring/ are the composition root: they may import anything, and
// nothing but each other imports them.
const layers = [
  { name: 'src/errors.ts, src/api/', paths: ['./src/errors.ts', './src/api'] },
  { name: 'src/runtime/', paths: ['./src/runtime'] },
  { name: 'src/observability/', paths: ['./src/observability'] },
  { name: 'src/crypto/', paths: ['./src/crypto'] },
  { name: 'src/providers/', paths: ['./src/providers'] },
  { name: 'src/secretsync/', paths: ['./src/secretsync'] },
  { name: 'src/webhook/', paths: ['./src/webhook'] },
  { name: 'src/kube/', paths: ['./src/kube'] },
  { name: 'src/agent/', paths: ['./src/agent'] },
  // Outermost so nothing of the operator or the agent imports it; portZones keeps it to layer 1.
  { name: 'src/convert/', paths: ['./src/convert'] },
];
const compositionRoot = ['./src/main.ts', './src/cli.ts', './src/flags.ts', './src/wiring'];

const layerZones = layers.map((layer, i) => {
  const inner = layers.slice(0, i).map((l) => l.name);
  return {
    target: layer.paths,
    from: [...layers.slice(i + 1).flatMap((l) => l.paths), ...compositionRoot],
    message:
      `Folder matrix (docs/architecture.md): ${layer.name} may import ` +
      (inner.length ? `only ${inner.join(', ')} and itself` : 'only itself') +
      '; never an outer layer or the composition root (main.ts, cli.ts, flags.ts, wiring/).',
  };
});

const portZones = [
  {
    target: './src/convert',
    from: ['./src/runtime', './src/observability', './src/crypto', './src/providers', './src/secretsync', './src/webhook', './src/kube', './src/agent'],
    message: 'src/convert/ (the ESO converter) is pure: it imports only src/errors.ts and src/api/.',
  },
  {
    target: './src/runtime',
    from: './src/api',
    message: 'src/runtime/ imports nothing of the domain (src/errors.ts at most).',
  },
  {
    target: './src/secretsync',
    from: './src/providers',
    except: ['./provider.ts', './registry.ts'],
    message: 'src/secretsync/ reaches providers only through the ports providers/provider.ts and providers/registry.ts.',
  },
  {
    target: './src/agent',
    from: './src/providers',
    except: ['./vault/index.ts', './aws/index.ts'],
    message: 'src/agent/ reaches a provider only through the agent port its index.ts exports, never its internals.',
  },
  {
    target: './src/providers/vault',
    from: './src/providers/aws',
    message: 'One provider does not import another.',
  },
  {
    target: './src/providers/aws',
    from: './src/providers/vault',
    message: 'One provider does not import another.',
  },
  {
    target: './src/providers/*.ts',
    from: ['./src/providers/vault', './src/providers/aws'],
    message: 'What providers share (src/providers/*.ts) depends on no single provider: the composition root wires them.',
  },
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.testenv/', '.testenv-reliability/', 'coverage/'] },
  js.configs.recommended,
  { languageOptions: { globals: globals.node } },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Layering: only src/kube/ (and the composition root) talks to Kubernetes, and one
    // client file per provider talks to its SDK.
    files: ['src/**/*.ts'],
    ignores: [
      'src/kube/**',
      'src/main.ts',
      'src/runtime/**',
      'src/providers/vault/client.ts',
      'src/providers/aws/client.ts',
      'src/providers/aws/kms.ts',
    ],
    rules: {
      'no-restricted-imports': ['error', { paths: [kubeOnly, vaultOnly], patterns: [awsOnly] }],
    },
  },
  {
    // The KMS adapter (STYLE.md: "the KMS adapters import an SDK") may import the KMS
    // client, and nothing else of the SDK, Kubernetes or node-vault.
    files: ['src/providers/aws/kms.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [kubeOnly, vaultOnly], patterns: [kmsOnly] }],
    },
  },
  {
    // Import direction between folders, and no import cycle. The resolver maps the .js
    // specifiers of NodeNext to the .ts files. no-cycle skips `import type` (no runtime
    // effect); the folder matrix counts type imports too, so no cycle between folders
    // hides behind types either.
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/extensions': ['.ts', '.js'],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: [...layerZones, ...portZones] }],
    },
  },
  {
    // The controller runtime never imports the domain (nor the SDKs).
    files: ['src/runtime/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [kubeOnly], patterns: ['**/secretsync/**', '**/providers/**', '**/crypto/**', '**/rotation/**'] },
      ],
    },
  },
);
