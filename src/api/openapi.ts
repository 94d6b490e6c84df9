// Tiny builders for OpenAPI v3 schema nodes, so that schema.ts reads like the API it
// describes and every node carries a description (`kubectl explain` shows them).

export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps | boolean;
  enum?: (string | number)[];
  default?: unknown;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  'x-kubernetes-validations'?: { rule: string; message: string; reason?: string; fieldPath?: string }[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

type Extra = Omit<JSONSchemaProps, 'type' | 'description'>;
type Rule = { rule: string; message: string };

export const str = (description: string, extra: Extra = {}): JSONSchemaProps => ({ type: 'string', description, ...extra });
export const int = (description: string, extra: Extra = {}): JSONSchemaProps => ({ type: 'integer', description, ...extra });
export const bool = (description: string, extra: Extra = {}): JSONSchemaProps => ({ type: 'boolean', description, ...extra });
export const arr = (description: string, items: JSONSchemaProps, extra: Extra = {}): JSONSchemaProps => ({
  type: 'array',
  description,
  items,
  ...extra,
});
export const map = (description: string, values: JSONSchemaProps, extra: Extra = {}): JSONSchemaProps => ({
  type: 'object',
  description,
  additionalProperties: values,
  ...extra,
});
export const obj = (
  description: string,
  properties: Record<string, JSONSchemaProps>,
  opts: { required?: string[]; rules?: Rule[] } & Extra = {},
): JSONSchemaProps => {
  const { required, rules, ...extra } = opts;
  return {
    type: 'object',
    description,
    properties,
    ...(required && required.length ? { required } : {}),
    ...(rules && rules.length ? { 'x-kubernetes-validations': rules } : {}),
    ...extra,
  };
};

/** A CEL rule that exactly one of the listed optional fields is set. */
export function exactlyOne(fields: string[], what: string): Rule {
  const list = fields.map((f) => `has(self.${f})`).join(', ');
  return {
    rule: `[${list}].filter(x, x).size() == 1`,
    message: `exactly one of ${fields.join(', ')} must be set (${what})`,
  };
}
