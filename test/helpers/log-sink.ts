// A pino destination that keeps every log line, so tests can assert that no secret value
// was ever logged (the canary pattern).
import { Writable } from 'node:stream';
import { leaksIn } from './canary.js';

export class LogSink extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    cb();
  }
  text(): string {
    return this.lines.join('\n');
  }
  /** Throws naming the line and form (not the value) when `value` appears anywhere, raw, JSON-escaped or base64. */
  assertNever(value: string): void {
    for (const [i, line] of this.lines.entries()) {
      const forms = leaksIn(line, value);
      if (forms.length > 0) throw new Error(`secret canary found (${forms.join(', ')}) in log line ${i + 1} of ${this.lines.length}`);
    }
  }
}
