// A pino destination that keeps every log line, so tests can assert that no secret value
// was ever logged (the canary pattern).
import { Writable } from 'node:stream';

export class LogSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  text(): string {
    return this.lines.join('\n');
  }
  /** Throws naming the line (not the value) when `value` appears anywhere. */
  assertNever(value: string): void {
    const i = this.lines.findIndex((l) => l.includes(value));
    if (i >= 0) throw new Error(`secret canary found in log line ${i + 1} of ${this.lines.length}`);
  }
}
