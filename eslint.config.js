import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const kubeOnly = { name: '@kubernetes/client-node', message: 'Only src/kube/ and src/main.ts talk to Kubernetes.' };

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
    // Layering: only src/kube/ (and the composition root) talks to Kubernetes.
    files: ['src/**/*.ts'],
    ignores: ['src/kube/**', 'src/main.ts', 'src/runtime/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [kubeOnly] }],
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
