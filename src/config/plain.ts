// Located tree → plain JSON data for the validator, plus an index from each JSON pointer
// (the validator's instancePath) to where its value and key were written.

import { parse as parseScalar } from 'yaml';
import type { Loc } from './errors.js';
import { typesAt } from './schema.js';
import type { LNode, Scalar } from './source.js';

export interface Located {
  loc: Loc;
  keyLoc?: Loc;
}
/** JSON pointer (`/zones/web/limits/memory`) → where it was written. */
export type LocIndex = Map<string, Located>;

export function pointer(path: readonly (string | number)[]): string {
  return path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export function parsePointer(p: string): string[] {
  return p === '' ? [] : p.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function toPlain(node: LNode, path: (string | number)[], index: LocIndex, keyLoc?: Loc): unknown {
  index.set(pointer(path), keyLoc ? { loc: node.loc, keyLoc } : { loc: node.loc });
  switch (node.kind) {
    case 'scalar':
      return node.interpolated && typeof node.value === 'string' ? coerce(node.value, path) : node.value;
    case 'seq':
      return node.items.map((item, i) => toPlain(item, [...path, i], index));
    case 'map': {
      const out: Record<string, unknown> = {};
      // defineProperty, not assignment: a key named __proto__ must stay a key (and be validated).
      for (const [k, e] of node.entries) Object.defineProperty(out, k, { value: toPlain(e.value, [...path, k], index, e.keyLoc), enumerable: true, writable: true, configurable: true });
      return out;
    }
    default: {
      const never: never = node;
      throw new Error(`unexpected node ${String(never)}`);
    }
  }
}

/**
 * A value produced by interpolation takes the type the schema expects at its path:
 * `cpus: ${CPUS:-0.5}` is the number 0.5, `gateway: ${GW:-true}` the boolean true; where a
 * string is also accepted and the text would change meaning as YAML, it stays a string.
 */
function coerce(text: string, path: readonly (string | number)[]): Scalar {
  const types = typesAt(path);
  if (types.has('string') && !types.has('number') && !types.has('integer')) return text;
  let v: unknown;
  try {
    v = parseScalar(text, { version: '1.2', schema: 'core', logLevel: 'silent' });
  } catch {
    return text; // not a YAML scalar: keep the text, the validator will say what is wrong
  }
  if (typeof v === 'number' && (types.has('number') || (types.has('integer') && Number.isInteger(v)))) return v;
  if (typeof v === 'boolean' && types.has('boolean')) return v;
  if (v === null && types.has('null') && text.trim() !== '') return null;
  return text;
}
