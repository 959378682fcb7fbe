// The precompiled schema validator, with its errors turned into located, plain-words problems.

import type { ErrorObject } from 'ajv';
import { dotted, show, type ConfigProblem } from './errors.js';
import validate from './generated/zones-validator.js';
import { parsePointer, pointer, type LocIndex } from './plain.js';
import { hintAt, keysAt } from './schema.js';
import { closest } from './suggest.js';

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a map',
  array: 'a list',
  null: 'null',
};

export function schemaProblems(data: unknown, index: LocIndex): ConfigProblem[] {
  if (validate(data)) return [];
  const problems: ConfigProblem[] = [];
  for (const e of validate.errors ?? []) {
    const p = describe(e, data, index);
    if (p) problems.push(p);
  }
  return problems;
}

function valueAt(data: unknown, path: readonly (string | number)[]): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** A JSON pointer's segments, list positions as numbers (so they read `mounts[0]`, as normalise writes them). */
function typedPath(data: unknown, segments: readonly string[]): (string | number)[] {
  let cur = data;
  return segments.map((seg) => {
    const inList = Array.isArray(cur);
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    return inList ? Number(seg) : seg;
  });
}

function describe(e: ErrorObject, data: unknown, index: LocIndex): ConfigProblem | undefined {
  const path = typedPath(data, parsePointer(e.instancePath));
  const at = index.get(e.instancePath);
  const value = valueAt(data, path);
  const hint = hintAt(path);
  const plain = (message: string, p: readonly (string | number)[] = path, loc = at?.loc ?? null): ConfigProblem => ({ loc, path: dotted(p), message });

  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const keyPath = [...path, key];
      const allowed = keysAt(path);
      const guess = closest(key, allowed);
      const where = index.get(pointer(keyPath));
      const what = path.length === 0 ? 'top-level key' : 'key';
      return plain(`unknown ${what} ${JSON.stringify(key)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : allowed.length > 0 && allowed.length <= 8 ? ` (expected one of: ${allowed.join(', ')})` : ''}`, keyPath, where?.keyLoc ?? where?.loc ?? null);
    }
    case 'propertyNames':
      return undefined; // the nested error (with propertyName) says it better
    case 'required':
      return plain(`missing required key ${JSON.stringify(String(e.params.missingProperty))}`);
    case 'enum':
      return plain(hint ? `${show(value)} ${hint}` : `${show(value)} is not one of: ${(e.params.allowedValues as unknown[]).map(String).join(', ')}`);
    case 'uniqueItems':
      return plain(`lists ${show((value as unknown[])[Number(e.params.i)])} twice`);
    case 'minItems':
    case 'minLength':
    case 'minProperties':
      return plain(hint ? `${show(value)} ${hint}` : 'must not be empty');
    case 'maxProperties':
      return plain(hint ? `${show(value)} ${hint}` : `has more than ${String(e.params.limit)} keys`);
    case 'maxLength':
      return plain(`is too long (at most ${String(e.params.limit)} characters)`);
    default:
      break;
  }
  if (e.propertyName !== undefined) {
    // A map key that breaks propertyNames: report it at the key.
    const keyPath = [...path, e.propertyName];
    const where = index.get(pointer(keyPath));
    const reserved = e.propertyName === 'global' && (path[0] === 'zones' || path[0] === 'networks') && path.length === 1;
    const keyHint = hintAt(path, true);
    return plain(reserved ? '"global" is reserved for the host (the global zone): choose another name' : `${show(e.propertyName)} ${keyHint ?? 'is not a valid key here'}`, keyPath, where?.keyLoc ?? where?.loc ?? null);
  }
  if (e.keyword === 'const' || e.keyword === 'not' || e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') {
    return plain(`${show(value)} ${hint ?? 'is not valid here'}`);
  }
  if (hint) {
    return plain(`${show(value)} ${hint}`);
  }
  switch (e.keyword) {
    case 'type': {
      const types = String(e.params.type).split(',').map((t) => TYPE_WORDS[t] ?? t);
      const expected = types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types.at(-1)}` : types[0];
      const yaml11 = typeof value === 'string' && /^(yes|no|on|off|y|n)$/i.test(value) && types.includes(TYPE_WORDS.boolean!);
      return plain(`must be ${expected} (got ${show(value)})${yaml11 ? ': YAML 1.2 has only true and false' : ''}`);
    }
    case 'minimum':
    case 'exclusiveMinimum':
      return plain(`must be ${e.keyword === 'minimum' ? 'at least' : 'more than'} ${String(e.params.limit)} (got ${show(value)})`);
    case 'maximum':
    case 'exclusiveMaximum':
      return plain(`must be at most ${String(e.params.limit)} (got ${show(value)})`);
    case 'pattern':
      return plain(e.params.pattern === '\\S' ? 'must not be empty' : `${show(value)} is not in the expected format`);
    default:
      return plain(e.message ?? 'is not valid');
  }
}
