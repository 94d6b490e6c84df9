// A dedicated moto_server that enforces IAM, for tests of real authentication failures:
// the stack's moto accepts any keys. It starts with authentication off, creates IAM users
// (with access keys and inline policies) and a role through moto's IAM API, then switches
// authentication on through moto's own /moto-api/reset-auth endpoint (what moto's
// set_initial_no_auth_action_count does in server mode). From then on unknown keys are
// InvalidClientTokenId, a wrong secret key SignatureDoesNotMatch, and each call is checked
// against the caller's policies. The test that starts it stops it (by its pid).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { http } from '../testenv/http.js';
import { freePort } from '../testenv/ports.js';
import type { AwsKeys } from './aws.js';
import { eventually } from './eventually.js';
import { requireEnv } from './stack.js';

export const MOTO_ACCOUNT = '123456789012';

/** The policy docs/sources.md recommends for reading secrets (BatchGetSecretValue needs both). */
export const READ_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['secretsmanager:BatchGetSecretValue'], Resource: '*' },
    { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue'], Resource: '*' },
  ],
};
const ADMIN_POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'secretsmanager:*', Resource: '*' }] };

export interface AuthMoto {
  endpoint: string;
  region: string;
  /** May do anything in Secrets Manager (arranging secrets). */
  admin: AwsKeys;
  /** Only READ_POLICY. */
  reader: AwsKeys;
  /** May only call sts:AssumeRole on `roleArn`; no Secrets Manager permission of its own. */
  roleUser: AwsKeys;
  /** A role trusting roleUser, with READ_POLICY. */
  roleArn: string;
  /** A role nobody is allowed to assume. */
  untrustedRoleArn: string;
  stop(): Promise<void>;
}

function iamCall(endpoint: string, region: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ ...params, Version: '2010-05-08' }).toString();
  return http(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      // Authentication is still off: moto only reads the service and region from the scope.
      authorization: `AWS4-HMAC-SHA256 Credential=setup/20260101/${region}/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body,
  }).then((r) => {
    if (r.status !== 200) throw new Error(`moto IAM ${params.Action} answered HTTP ${r.status}`);
    return r.body;
  });
}

const tag = (xml: string, name: string) => new RegExp(`<${name}>([^<]+)</${name}>`).exec(xml)?.[1] ?? '';

async function userWithKeys(endpoint: string, region: string, name: string, policy: object): Promise<AwsKeys> {
  await iamCall(endpoint, region, { Action: 'CreateUser', UserName: name });
  await iamCall(endpoint, region, { Action: 'PutUserPolicy', UserName: name, PolicyName: `${name}-policy`, PolicyDocument: JSON.stringify(policy) });
  const xml = await iamCall(endpoint, region, { Action: 'CreateAccessKey', UserName: name });
  return { accessKeyId: tag(xml, 'AccessKeyId'), secretAccessKey: tag(xml, 'SecretAccessKey') };
}

async function role(endpoint: string, region: string, name: string, trusted: string, policy: object): Promise<string> {
  const trust = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: trusted }, Action: 'sts:AssumeRole' }] };
  const xml = await iamCall(endpoint, region, { Action: 'CreateRole', RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trust) });
  await iamCall(endpoint, region, { Action: 'PutRolePolicy', RoleName: name, PolicyName: `${name}-policy`, PolicyDocument: JSON.stringify(policy) });
  return tag(xml, 'Arn');
}

function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

export async function startAuthMoto(): Promise<AuthMoto> {
  const region = requireEnv('AWS_REGION');
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const proc = spawn(join(requireEnv('SECRETSYNC_TESTENV_BIN'), 'moto_server'), ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  try {
    await eventually(
      async () => {
        if (proc.exitCode !== null) throw new Error(`moto_server exited with ${proc.exitCode}`);
        const r = await http(`${endpoint}/moto-api/`, { timeoutMs: 1000 });
        return r.status === 200 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'dedicated moto_server' },
    );
    const admin = await userWithKeys(endpoint, region, 'secretsync-admin', ADMIN_POLICY);
    const reader = await userWithKeys(endpoint, region, 'secretsync-reader', READ_POLICY);
    const roleUserArn = `arn:aws:iam::${MOTO_ACCOUNT}:user/secretsync-role-user`;
    const roleArn = await role(endpoint, region, 'secretsync-reader-role', roleUserArn, READ_POLICY);
    const untrustedRoleArn = await role(endpoint, region, 'secretsync-untrusted-role', `arn:aws:iam::${MOTO_ACCOUNT}:user/nobody`, READ_POLICY);
    const roleUser = await userWithKeys(endpoint, region, 'secretsync-role-user', {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: '*' }],
    });
    const on = await http(`${endpoint}/moto-api/reset-auth`, { method: 'POST', body: '0' });
    if (on.status !== 200) throw new Error(`moto reset-auth answered HTTP ${on.status}`);
    return { endpoint, region, admin, reader, roleUser, roleArn, untrustedRoleArn, stop: () => stopProcess(proc) };
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
}
