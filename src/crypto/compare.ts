// Constant-time equality of secret-bearing strings (MACs, HMACs, tokens): the time a
// comparison takes says nothing about how many leading bytes matched, so nobody who can
// make the process compare a value of theirs learns a MAC or a token byte by byte. Their
// lengths are not secret (they follow from the format), so unequal lengths return at once.
import { timingSafeEqual } from 'node:crypto';

export function constantTimeEqual(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
