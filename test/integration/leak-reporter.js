// The suite-wide leak scan's last step, as a Jest reporter (it sees what Jest itself
// prints, and a reporter's error fails the run): keeps each file's test output (console
// lines, test names, failure messages), then, when every file is done, scans everything
// kept in SECRETSYNC_LEAK_DIR (test/helpers/leak-record.ts: operator and agent output,
// every webhook answer, /metrics, the cluster's objects at each file's end) and what the
// stack's components logged during the run (.testenv/logs/) for the suite's canary in
// every form (test/helpers/leak-scan.ts). It prints the places and the result; a finding names the
// place and the form, never the value. The directory is removed when nothing was found.
// Plain JS loading the TypeScript through tsx, like global-setup.js.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tsImport } from 'tsx/esm/api';

export default class LeakReporter {
  /** @type {Error | undefined} */
  error;

  onTestFileResult(test, result) {
    const dir = process.env.SECRETSYNC_LEAK_DIR;
    if (!dir) return;
    const lines = [
      ...(result.console ?? []).map((e) => e.message),
      result.failureMessage ?? '',
      result.testExecError?.message ?? '',
      ...result.testResults.flatMap((a) => [a.fullName, ...a.failureMessages]),
    ];
    mkdirSync(join(dir, 'jest-output'), { recursive: true });
    writeFileSync(join(dir, 'jest-output', `${basename(test.path)}.txt`), lines.join('\n'));
  }

  async onRunComplete() {
    const dir = process.env.SECRETSYNC_LEAK_DIR;
    const value = process.env.SECRETSYNC_TEST_CANARY;
    if (!dir || !value) return;
    const { scanDir, scanStackLogs, describeFinding, STACK_LOGS_FILE } = await tsImport('../helpers/leak-scan.ts', import.meta.url);
    const t0 = Date.now();
    const scan = scanDir(dir, value);
    // The stack components' own logs, what they wrote during the run (global-setup.js).
    const stackFile = join(dir, STACK_LOGS_FILE);
    const stack = existsSync(stackFile) ? scanStackLogs(JSON.parse(readFileSync(stackFile, 'utf8')), value) : { files: {}, findings: [] };
    scan.findings.push(...stack.findings);
    const stackBytes = Object.values(stack.files).reduce((a, b) => a + b, 0);
    scan.bytes += stackBytes;
    const count = Object.values(scan.places).reduce((a, b) => a + b, 0) + Object.keys(stack.files).length;
    const size = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} kB`);
    const stackKinds = Object.keys(stack.files).length
      ? [`stack logs ${Object.keys(stack.files).length} (${Object.entries(stack.files).map(([f, n]) => `${f.replace(/\.log$/, '')} ${size(n)}`).join(', ')})`]
      : [];
    const unit = { cluster: 'objects', operator: 'lines', agent: 'lines', admission: 'answers' };
    const kinds = [
      ...Object.entries(scan.places).map(([k, n]) => `${k} ${n}${unit[k] ? ` (${scan.lines[k]} ${unit[k]})` : ''}`),
      ...stackKinds,
    ].join(', ');
    const costFile = join(dir, '_cost-ms');
    const fileEnds = existsSync(costFile) ? readFileSync(costFile, 'utf8').split('\n').filter(Boolean).map(Number) : [];
    const keeping = `${fileEnds.length} file ends kept the cluster's objects in ${(fileEnds.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s in all`;
    const summary = `${count} places (${kinds}), ${(scan.bytes / 1e6).toFixed(1)} MB, scanned in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${keeping}`;
    if (scan.findings.length === 0) {
      process.stderr.write(`\nleak scan: the suite's canary found nowhere in ${summary}\n`);
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const list = scan.findings.map((f) => `  ${describeFinding(f)}`).join('\n');
    process.stderr.write(`\nleak scan: the suite's canary FOUND ${scan.findings.length} time(s) in ${summary}:\n${list}\n(kept in ${dir})\n`);
    this.error = new Error(`leak scan: the suite's canary found in ${scan.findings.length} place(s)`);
  }

  getLastError() {
    return this.error;
  }
}
