// Every agent error code is documented in docs/agent.md with whether it is retried.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentCode, AgentError } from '../../../src/agent/errors.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'agent.md'), 'utf8');

test.each(Object.values(AgentCode))('%s is documented with whether it is retried', (code) => {
  const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\``));
  expect(row).toBeDefined();
  expect(row).toContain(new AgentError(code, 'x').retryable ? '| yes |' : '| no |');
});

test('every code in the docs exists', () => {
  for (const m of doc.matchAll(/^\| `(ESS_AGENT_[A-Z_]+)` \|/gm)) expect(Object.values(AgentCode)).toContain(m[1]);
});
