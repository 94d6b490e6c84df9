// Go-style durations ("30s", "1h30m", "1.5h", "250ms"), as Kubernetes users write them.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or undefined when `text` is not a duration. */
// Milliseconds whole ("1.5ms" is refused, as by the CRD pattern): a fraction of one would
// put ticks between the clock's and make a reconcile asked at a tick answer that same tick.
export function parseDuration(text: string): number | undefined {
  const re = /([0-9]+)ms|([0-9]+(?:\.[0-9]+)?)(s|m|h)/y;
  let ms = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    ms += m[1] !== undefined ? Number(m[1]) : Number(m[2]) * (UNIT_MS[m[3] ?? ''] ?? NaN);
    pos = re.lastIndex;
  }
  return text.length > 0 && Number.isFinite(ms) ? ms : undefined;
}
