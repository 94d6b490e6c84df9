// The converter's entry: YAML texts in, our YAML and the lines for stderr out (pure; the CLI reads the files).
import { parseAllDocuments, stringify } from 'yaml';
import { convertDocuments } from './convert.js';

export { convertDocuments, ESO_API_VERSIONS } from './convert.js';
export { goDurationMs } from './external-secret.js';
export { translateTemplate, TemplateUnsupported } from './template.js';

export interface ConvertOutput {
  /** Our objects as YAML documents, separated by `---`. */
  yaml: string;
  /** For stderr, one per line. */
  lines: string[];
  /** How many objects were converted. */
  converted: number;
}

export function convertTexts(files: { source: string; text: string }[]): ConvertOutput {
  const docs: { source: string; index: number; doc: unknown }[] = [];
  const lines: string[] = [];
  for (const { source, text } of files) {
    parseAllDocuments(text).forEach((d, index) => {
      if (d.errors.length > 0) lines.push(`${source}#${index + 1}: passed over: not YAML: ${d.errors[0]!.message.split('\n')[0]}`);
      else docs.push({ source, index, doc: d.toJS() });
    });
  }
  const r = convertDocuments(docs);
  return {
    yaml: r.objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'),
    lines: [...lines, ...r.lines],
    converted: r.objects.length,
  };
}
