// dataFrom's pure half: which listed secrets a find keeps (under its path, within the
// namespace's path prefixes, matching name.regexp), the bound on how many, key rewrites,
// and the merge of every dataFrom secret's properties into keys, refusing collisions with
// both sources named. The listing and the reads are provider I/O (fetch.ts); nothing here
// calls anything.
//
// Tenant regexes (find.name.regexp, rewrite[].regexp.source) run on RE2 semantics (re2js):
// no backreferences or lookaround, matching in time linear in the input, so no pattern can
// make the operator backtrack; inputs are secret names and property keys, both bounded.
import { RE2JS } from 're2js';
import type { DataFromEntry, FindSpec, RewriteRule } from '../api/types.js';
import { FindLimitError, InvalidSpecError, KeyCollisionError } from '../errors.js';
import type { Content } from './content.js';

/** How many names a listing may visit per secret a find may keep: listing is bounded too, not only reads. */
export const LISTED_PER_FOUND = 20;

/** A pattern compiled with RE2 semantics; InvalidSpecError naming `field` when it is not one. */
export function compileRe2(pattern: string, field: string): RE2JS {
  try {
    return RE2JS.compile(pattern);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new InvalidSpecError(`${field} "${shown(pattern)}" is not an RE2 regular expression (${why}): RE2 has no backreferences or lookaround`);
  }
}

function shown(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return clean.length > 256 ? `${clean.slice(0, 256)}…` : clean;
}

/** Checks every regex of a dataFrom entry up front (validation); throws InvalidSpecError. */
export function checkDataFromRegexes(entry: DataFromEntry, field: string): void {
  if (entry.find?.name?.regexp !== undefined) compileRe2(entry.find.name.regexp, `${field}.find.name.regexp`);
  for (const [i, r] of (entry.rewrite ?? []).entries()) compileRe2(r.regexp.source, `${field}.rewrite[${i}].regexp.source`);
}

/**
 * The listed names a find keeps, sorted: under find.path (a plain, case-sensitive string
 * prefix: AWS's own name filter ignores case), within `prefixes` (the namespace's scope on a
 * ClusterSecretSource; undefined: any), and matching find.name.regexp. More than `max` is a
 * FindLimitError: the tenant narrows the find, or the platform team raises the flag.
 */
export function selectFound(listed: readonly string[], find: FindSpec, prefixes: readonly string[] | undefined, max: number, field: string): string[] {
  const re = find.name?.regexp !== undefined ? compileRe2(find.name.regexp, `${field}.find.name.regexp`) : undefined;
  const base = find.path;
  const kept = [...new Set(listed)]
    .filter((name) => base === undefined || name.startsWith(base))
    .filter((name) => prefixes === undefined || prefixes.some((p) => name.startsWith(p)))
    .filter((name) => re === undefined || re.matcher(name).find())
    .sort();
  if (kept.length > max) {
    throw new FindLimitError(
      `${field}.find found ${kept.length} secrets, more than the ${max} the operator allows per SecretSync (--find-max-secrets): ` +
        'narrow find.path, find.name.regexp or find.tags, or split the SecretSync',
    );
  }
  return kept;
}

/** The limit on names a listing may visit for a find that may keep `max` secrets. */
export function listingLimit(max: number): number {
  return max * LISTED_PER_FOUND;
}

const KEY = /^[-._a-zA-Z0-9]+$/;

/** `key` after every rule, in order (replace-all); InvalidSpecError when the result is no valid key. */
export function rewriteKey(key: string, rules: readonly RewriteRule[] | undefined, field: string): string {
  let out = key;
  for (const [i, r] of (rules ?? []).entries()) {
    out = replaceAll(compileRe2(r.regexp.source, `${field}.rewrite[${i}].regexp.source`), out, r.regexp.target);
  }
  if (rules?.length && (out.length > 253 || !KEY.test(out) || out === '.' || out === '..' || out === '__proto__')) {
    throw new InvalidSpecError(
      `${field}.rewrite turns key "${shown(key)}" into "${shown(out)}", which is not a key of a Secret: keys are 1-253 characters of letters, digits, "-", "_" and ".", not "." or ".."; change the rewrite`,
    );
  }
  return out;
}

/**
 * Every match of `re` in `input` replaced by `template`, expanded as Go's regexp does (ESO's
 * rewrite is Go's ReplaceAllString): `$1` / `${1}` a group by number, `$name` / `${name}` by
 * name, `$$` a dollar sign; a group that does not exist or did not match expands to nothing.
 */
export function replaceAll(re: RE2JS, input: string, template: string): string {
  const named = re.namedGroups() as Record<string, number>;
  const m = re.matcher(input);
  let out = '';
  let last = 0;
  while (m.find()) {
    out += input.slice(last, m.start()) + expand(template, (ref) => {
      const n = /^\d+$/.test(ref) ? Number(ref) : Object.hasOwn(named, ref) ? named[ref] : undefined;
      return n !== undefined && n <= m.groupCount() ? (m.group(n) ?? '') : '';
    });
    last = m.end();
  }
  return out + input.slice(last);
}

function expand(template: string, group: (ref: string) => string): string {
  return template.replace(/\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (whole, braced?: string, bare?: string) =>
    whole === '$$' ? '$' : group(braced ?? bare ?? ''),
  );
}

/** One secret a dataFrom entry read: its remote path, properties and version. */
export interface ReadSecret {
  path: string;
  values: Record<string, Buffer>;
  version: string;
}

/** What one dataFrom entry read: the named secret, or every secret its find kept. */
export interface DataFromRead {
  entry: DataFromEntry;
  secrets: ReadSecret[];
}

/**
 * The keys of every dataFrom secret, rewritten. Two different sources (secret and property)
 * giving one key are refused with both named; the same property of the same secret reached
 * twice (a find that also finds a secret a remoteRef names) is one source, not a collision.
 */
export function mergeDataFrom(reads: readonly DataFromRead[]): Content {
  const content: Content = {};
  const from = new Map<string, { field: string; path: string; property: string }>();
  reads.forEach(({ entry, secrets }, i) => {
    const field = `spec.dataFrom[${i}]`;
    for (const s of secrets) {
      for (const [property, value] of Object.entries(s.values)) {
        const key = rewriteKey(property, entry.rewrite, field);
        const seen = from.get(key);
        if (seen && (seen.path !== s.path || seen.property !== property)) {
          throw new KeyCollisionError(
            `key "${shown(key)}" comes from two secrets: ${describe(seen)} and ${describe({ field, path: s.path, property })}: ` +
              'add a rewrite to one of the entries (e.g. a prefix: source "^", target "<name>_"), or narrow its find',
          );
        }
        from.set(key, { field, path: s.path, property });
        content[key] = value;
      }
    }
  });
  return content;
}

function describe(x: { field: string; path: string; property: string }): string {
  return `${x.field} secret "${shown(x.path)}" property "${shown(x.property)}"`;
}
