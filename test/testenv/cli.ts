// `npm run testenv -- up|down|status|install` (behind `make testenv-up` / `make testenv-down`).
import { join } from 'node:path';
import { stateDir } from './config.js';
import { ensureInstalled } from './install.js';
import { down, isRunning, readState, up } from './index.js';

async function main(cmd: string | undefined): Promise<number> {
  const dir = stateDir();
  switch (cmd) {
    case 'install':
      console.log(await ensureInstalled());
      return 0;
    case 'up': {
      const s = await up(dir);
      console.log(`Local stack running (state in ${dir}):`);
      if (s.cluster === 'local') console.log(`  kube-apiserver + etcd + kube-controller-manager  KUBECONFIG=${s.env.KUBECONFIG}`);
      else console.log(`  existing cluster                                KUBECONFIG=${s.env.KUBECONFIG}`);
      console.log(`  OpenBao (dev)                                   VAULT_ADDR=${s.env.VAULT_ADDR}`);
      console.log(`  moto (Secrets Manager, KMS)                     AWS_ENDPOINT_URL=${s.env.AWS_ENDPOINT_URL}`);
      if (s.env.SECRETSYNC_TESTENV_NODE_NAME) {
        console.log(`  node ${s.env.SECRETSYNC_TESTENV_NODE_NAME} (containerd, kubelet, kube-proxy, kube-scheduler)  SECRETSYNC_TEST_APP_IMAGE=${s.env.SECRETSYNC_TEST_APP_IMAGE}`);
        console.log(`  from pods: POD_VAULT_ADDR=${s.env.POD_VAULT_ADDR} POD_AWS_ENDPOINT_URL=${s.env.POD_AWS_ENDPOINT_URL}`);
      } else {
        console.log('  no node: pods stay Pending (the reason is logged above)');
      }
      console.log(`Use it from a shell:  . ${join(dir, 'env.sh')} && kubectl get --raw /readyz`);
      console.log('Stop it:             make testenv-down');
      return 0;
    }
    case 'down':
      await down(dir);
      console.log('Local stack stopped.');
      return 0;
    case 'status': {
      const s = readState(dir);
      if (!isRunning(s)) {
        console.log('not running');
        return 1;
      }
      for (const p of s.processes) console.log(`${p.name.padEnd(24)} pid ${p.pid}  log ${p.logFile}`);
      return 0;
    }
    default:
      console.error('usage: testenv up|down|status|install');
      return 2;
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`testenv: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
