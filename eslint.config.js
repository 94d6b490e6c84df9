import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const kubeOnly = { name: '@kubernetes/client-node', message: 'Only src/kube/ and src/main.ts talk to Kubernetes.' };

const vaultOnly = { name: 'node-vault', message: 'Only src/providers/vault/client.ts imports node-vault.' };
const awsOnly = {
  group: ['@aws-sdk/*'],
  message: 'Only src/providers/aws/client.ts imports the AWS SDK (and src/providers/aws/kms.ts, @aws-sdk/client-kms).',
};
const kmsOnly = { group: ['@aws-sdk/*', '!@aws-sdk/client-kms'], message: 'The KMS adapter imports only @aws-sdk/client-kms.' };

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.testenv/', 'coverage/'] },
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
