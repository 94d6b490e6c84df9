// The import rules of eslint.config.js (issue 20): the folder matrix and no-cycle. Source
// text is linted as if it were a file of src/ (nothing is written), so a config change
// that stops a rule from failing fails here, and so does one that fails what the matrix
// allows.
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { ESLint } from 'eslint';
import { repoRoot } from '../testenv/config.js';

// The first lint loads the TypeScript parser and the resolver.
jest.setTimeout(60_000);

const eslint = new ESLint({ cwd: repoRoot });

/** `rule: message` of every import-x problem in `code` linted as `file`. */
async function importProblems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId?.startsWith('import-x/')).map((m) => `${m.ruleId}: ${m.message}`);
}

const uses = (name: string, from: string) => `import { ${name} } from '${from}';\nexport const used = ${name};\n`;

test.each([
  ['crypto/ importing a provider', 'src/crypto/envelope.ts', uses('vaultProvider', '../providers/vault/index.js'), /Folder matrix.*src\/crypto\/ may import only/],
  ['the domain importing the webhook', 'src/secretsync/rollout.ts', uses('labelFor', '../webhook/names.js'), /Folder matrix.*src\/secretsync\/ may import only/],
  ['the domain importing a provider internal', 'src/secretsync/fetch.ts', uses('statusOf', '../providers/vault/errors.js'), /only through the ports providers\/provider\.ts/],
  ['the agent importing a provider internal', 'src/agent/key-access.ts', uses('TokenSession', '../providers/vault/token-session.js'), /agent port its index\.ts exports/],
  ['the agent importing the composition root', 'src/agent/flags.ts', uses('OPERATOR_HELP', '../flags.js'), /never an outer layer or the composition root/],
  ['the runtime importing the API', 'src/runtime/clock.ts', uses('GROUP', '../api/types.js'), /src\/runtime\/ imports nothing of the domain/],
  ['one provider importing another', 'src/providers/aws/provider.ts', uses('statusOf', '../vault/errors.js'), /One provider does not import another/],
  ['the converter importing the domain', 'src/convert/convert.ts', uses('targetName', '../secretsync/target.js'), /src\/convert\/ \(the ESO converter\) is pure/],
  ['the agent importing the converter', 'src/agent/flags.ts', uses('convertTexts', '../convert/index.js'), /Folder matrix.*src\/agent\/ may import only/],
  ['a shared provider file importing one provider', 'src/providers/registry.ts', uses('vaultProvider', './vault/index.js'), /depends on no single provider/],
])('%s fails', async (_what, file, code, message) => {
  const problems = await importProblems(file, code);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/^import-x\/no-restricted-paths: /);
  expect(problems[0]).toMatch(message);
});

test('an import that closes a cycle fails', async () => {
  // grants.ts imports target.ts, so target.ts may not import grants.ts.
  expect(await importProblems('src/secretsync/target.ts', uses('grantName', './grants.js'))).toEqual([
    expect.stringMatching(/^import-x\/no-cycle: Dependency cycle/),
  ]);
});

test.each([
  ['the agent using a provider port', 'src/agent/key-access.ts', uses('TokenSession', '../providers/vault/index.js')],
  ['the domain using the provider contract', 'src/secretsync/fetch.ts', uses('ProviderRegistry', '../providers/registry.js')],
  ['the webhook using the domain', 'src/webhook/inject.ts', uses('targetName', '../secretsync/target.js')],
  ['the composition root using anything', 'src/main.ts', uses('kubernetesAuthenticator', './agent/vault-login.js')],
  ['a provider using crypto/', 'src/providers/vault/provider.ts', uses('constantTimeEqual', '../../crypto/compare.js')],
])('%s passes', async (_what, file, code) => {
  expect(await importProblems(file, code)).toEqual([]);
});
