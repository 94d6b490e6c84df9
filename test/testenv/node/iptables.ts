// iptables for the node: removing every chain kube-proxy, the kubelet, CNI and the stack
// made (and the jumps to them from the built-in chains), in iptables and ip6tables.
import { sh, which } from './host.js';

async function iptablesChains(cmd: string, table: string): Promise<{ chains: string[]; rules: string[] }> {
  const out = await sh(cmd, ['-w', '-t', table, '-S'], true);
  const lines = out.split('\n');
  return {
    chains: lines.filter((l) => l.startsWith('-N ')).map((l) => l.slice(3).trim()),
    rules: lines.filter((l) => l.startsWith('-A ')),
  };
}

const ours = (chain: string) => /^(KUBE-|CNI-|SECRETSYNC-)/.test(chain);

/** Removes every KUBE-*, CNI-* and SECRETSYNC-* chain (and the jumps to them) from iptables and ip6tables. */
export async function sweepIptables(): Promise<void> {
  for (const cmd of ['iptables', 'ip6tables']) {
    if (!which(cmd)) continue;
    for (const table of ['filter', 'nat', 'mangle', 'raw']) {
      const { chains, rules } = await iptablesChains(cmd, table);
      // Jumps from built-in chains into ours.
      for (const r of rules) {
        const parts = r.split(/\s+/);
        const chain = parts[1] ?? '';
        const target = parts[parts.indexOf('-j') + 1] ?? '';
        if (!ours(chain) && ours(target)) await sh(cmd, ['-w', '-t', table, '-D', ...shellSplit(r.slice(3))], true);
      }
      const mine = chains.filter(ours);
      for (const c of mine) await sh(cmd, ['-w', '-t', table, '-F', c], true);
      for (const c of mine) await sh(cmd, ['-w', '-t', table, '-X', c], true);
    }
  }
  if (which('nft')) {
    for (const fam of ['ip', 'ip6']) await sh('nft', ['delete', 'table', fam, 'kube-proxy'], true);
  }
}

/** Splits an `iptables -S` rule into arguments (quoted comments stay one argument). */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}
