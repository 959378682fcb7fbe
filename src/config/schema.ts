// The JSON Schema as data, for what the precompiled validator cannot tell: which types a
// path accepts (to convert interpolated values) and which keys a map allows (to suggest
// one). Read lazily, only when needed.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  description?: string;
  [k: string]: unknown;
};

let cached: JsonSchema | undefined;

export function zonesSchema(): JsonSchema {
  cached ??= JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'schema', 'zones.schema.json'), 'utf8')) as JsonSchema;
  return cached;
}

/** Resolves a JSON pointer inside the schema (`#/$defs/limits`). */
export function schemaByPointer(pointer: string): JsonSchema | undefined {
  let node: unknown = zonesSchema();
  for (const raw of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node && typeof node === 'object' ? (node as JsonSchema) : undefined;
}

function deref(s: JsonSchema | undefined): JsonSchema | undefined {
  let cur = s;
  for (let i = 0; cur?.$ref && i < 16; i++) cur = schemaByPointer(cur.$ref);
  return cur;
}

/** A schema and every schema its $ref chain leads to, nearest first. */
function chain(s: JsonSchema): JsonSchema[] {
  const out = [s];
  for (let cur = s; cur.$ref && out.length < 16; ) {
    const next = schemaByPointer(cur.$ref);
    if (!next) break;
    out.push(next);
    cur = next;
  }
  return out;
}

/** The schemas that apply at an instance path, $refs not yet followed. */
function rawSchemasAt(path: readonly (string | number)[]): JsonSchema[] {
  let current: JsonSchema[] = [zonesSchema()];
  for (const seg of path) {
    const next: JsonSchema[] = [];
    for (const raw of current) {
      const s = deref(raw);
      if (!s) continue;
      if (typeof seg === 'number' || /^[0-9]+$/.test(seg)) {
        if (s.items) next.push(s.items);
        if (typeof seg === 'number') continue;
      }
      const prop = s.properties?.[seg];
      if (prop) next.push(prop);
      else {
        const pattern = Object.entries(s.patternProperties ?? {}).find(([re]) => new RegExp(re, 'u').test(seg));
        if (pattern) next.push(pattern[1]);
        else if (typeof s.additionalProperties === 'object') next.push(s.additionalProperties);
      }
    }
    current = next;
  }
  return current;
}

/** The schemas that apply at an instance path. */
export function schemasAt(path: readonly (string | number)[]): JsonSchema[] {
  return rawSchemasAt(path).map(deref).filter((x): x is JsonSchema => x !== undefined);
}

/** The JSON types a path accepts. */
export function typesAt(path: readonly (string | number)[]): Set<string> {
  const types = new Set<string>();
  for (const s of schemasAt(path)) {
    const t = s.type;
    for (const x of Array.isArray(t) ? t : t ? [t] : []) types.add(x);
  }
  return types;
}

/** The keys a map at this path allows (for "did you mean"). */
export function keysAt(path: readonly (string | number)[]): string[] {
  return [...new Set(schemasAt(path).flatMap((s) => Object.keys(s.properties ?? {})))];
}

/** The x-hint (what a value should look like) nearest to a path; for a map key, its propertyNames hint. */
export function hintAt(path: readonly (string | number)[], key = false): string | undefined {
  const schemas = key ? schemasAt(path).flatMap((s) => (s.propertyNames ? [s.propertyNames as JsonSchema] : [])) : rawSchemasAt(path);
  for (const s of schemas) for (const c of chain(s)) if (typeof c['x-hint'] === 'string') return c['x-hint'];
  return undefined;
}
