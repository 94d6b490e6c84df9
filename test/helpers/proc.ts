// A process's memory from /proc (Linux): the resident set now and the kernel's peak of it
// (VmHWM), for benchmarks and load tests that report an operator's RSS.
import { readFileSync } from 'node:fs';

/** RSS and peak RSS of `pid`, in bytes. */
export function procStatus(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
