// The filters of spec.target.template (docs/templates.md): each takes and returns bytes, and
// fails with FilterFailure saying what is wrong with its input, never the input itself.

export type Filter = (v: Buffer) => Buffer;

const str = (s: string) => Buffer.from(s, 'utf8');
const utf8 = new TextDecoder('utf-8', { fatal: true });
function text(v: Buffer): string {
  try {
    return utf8.decode(v);
  } catch {
    throw new FilterFailure('its input is not UTF-8 text (b64enc it instead)');
  }
}

export class FilterFailure extends Error {}

/** YAML 1.2 double-quoted scalar: JSON's escapes, plus the characters YAML does not allow unescaped. */
function yamlQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function b64dec(v: Buffer): Buffer {
  const s = text(v).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1) {
    throw new FilterFailure('its input is not base64');
  }
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** The filters, by name: each takes and returns bytes. */
export const FILTERS: ReadonlyMap<string, Filter> = new Map<string, Filter>([
  ['b64enc', (v) => str(v.toString('base64'))],
  ['b64dec', b64dec],
  ['json', (v) => str(JSON.stringify(text(v)))],
  ['yaml', (v) => str(yamlQuote(text(v)))],
  ['trim', (v) => str(text(v).trim())],
  ['upper', (v) => str(text(v).toUpperCase())],
  ['lower', (v) => str(text(v).toLowerCase())],
]);
