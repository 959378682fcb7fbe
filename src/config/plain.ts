// Located tree → plain JSON data for the validator, and an index from a JSON pointer (the
// validator's instancePath) to where its value and key were written.

import { parse as parseScalar } from 'yaml';
import type { Loc } from './errors.js';
import { typesAt } from './schema.js';
import type { LNode, Scalar } from './source.js';

export interface Located {
  loc: Loc;
  keyLoc?: Loc;
}
/** JSON pointer (`/zones/web/limits/memory`) → where it was written. */
export interface LocIndex {
  get(pointer: string): Located | undefined;
}

/**
 * The index of a located tree: a pointer is looked up by walking the tree, when a problem or a
 * relative path asks (a map built up front for every node was a third of loadConfig's time
 * over 1,000 zones, for lookups that a valid file mostly never makes).
 */
export function locIndex(root: LNode): LocIndex {
  return {
    get(p: string): Located | undefined {
      let node: LNode = root;
      let keyLoc: Loc | undefined;
      for (const key of parsePointer(p)) {
        if (node.kind === 'map') {
          const e = node.entries.get(key);
          if (!e) return undefined;
          node = e.value;
          keyLoc = e.keyLoc;
        } else if (node.kind === 'seq' && /^(0|[1-9][0-9]*)$/.test(key) && Number(key) < node.items.length) {
          node = node.items[Number(key)]!;
          keyLoc = undefined;
        } else return undefined;
      }
      return keyLoc ? { loc: node.loc, keyLoc } : { loc: node.loc };
    },
  };
}

export function pointer(path: readonly (string | number)[]): string {
  return path.map((s) => `/${escape(String(s))}`).join('');
}

/** A JSON pointer's escaping of one key (RFC 6901). */
function escape(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replaceAll('~', '~0').replaceAll('/', '~1') : key;
}

export function parsePointer(p: string): string[] {
  return p === '' ? [] : p.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function toPlain(node: LNode): unknown {
  return plainAt(node, []);
}

/** toPlain below `path` (the node's path, for coercion), kept as a stack: pushed and popped around each child. */
function plainAt(node: LNode, path: (string | number)[]): unknown {
  switch (node.kind) {
    case 'scalar':
      return node.interpolated && typeof node.value === 'string' ? coerce(node.value, path) : node.value;
    case 'seq': {
      const out: unknown[] = new Array(node.items.length);
      node.items.forEach((item, i) => {
        path.push(i);
        out[i] = plainAt(item, path);
        path.pop();
      });
      return out;
    }
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, e] of node.entries) {
        path.push(k);
        const value = plainAt(e.value, path);
        path.pop();
        // a key named __proto__ must stay a key (and be validated): defined, not assigned
        if (k === '__proto__') Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
        else out[k] = value;
      }
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
