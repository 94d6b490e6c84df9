// spec.target.template applied to what a read returned (pure; the renderer is
// api/template.ts, shared with the agent). The content the rest of the reconcile compares,
// sizes and writes is the rendered one, so the version moves exactly when the rendered
// Secret changes (a change of a synced key no template uses moves nothing). Envelope
// mode seals the synced keys the template uses together with the template, and the agent
// renders inside the pod: the operator renders here only in memory, for the content HMAC
// and to report a template error as Ready=False before any pod sees it.
import { DEFAULTS, type SecretSync } from '../api/types.js';
import { referencedKeys, renderTemplate, type TargetTemplate } from '../api/template.js';
import { checkSize, type Content } from './content.js';
import type { ReadOutcome } from './plan.js';

/** What envelope mode seals for a templated version: the synced keys the template uses, and the template. */
export interface TemplateSource {
  values: Content;
  template: TargetTemplate;
}

/** `read` with its content rendered by spec.target.template (unchanged without one); a template error is a failed read. */
export function renderRead(ss: SecretSync, read: ReadOutcome | undefined): ReadOutcome | undefined {
  const template = ss.spec.target?.template;
  if (!read?.ok || !template) return read;
  try {
    const maxBytes = ss.spec.target?.maxSizeBytes ?? DEFAULTS.maxSizeBytes;
    const content = renderTemplate(template, read.content, maxBytes);
    if (!ss.spec.target?.encryption) return { ...read, content };
    const used = referencedKeys(template);
    const values = Object.fromEntries(Object.entries(read.content).filter(([k]) => used.has(k)));
    // What the envelope holds must fit the same limit as what it renders to.
    checkSize(values, maxBytes);
    return { ...read, content, rendered: { values, template } };
  } catch (error) {
    return { ok: false, error };
  }
}
