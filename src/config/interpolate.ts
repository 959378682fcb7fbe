// ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, ${VAR:+alt},
// ${VAR+alt}, $VAR and $$ (a literal $), as in Compose. Unlike Compose, a variable that is
// not set and has no default is an error, not a silent empty string.

import { dotted, type ConfigProblem } from './errors.js';
import type { LNode } from './source.js';

export type Env = Readonly<Record<string, string | undefined>>;

export class InterpolationError extends Error {
  override name = 'InterpolationError';
}

/** Interpolates one string; throws InterpolationError with a plain message. */
export function interpolate(text: string, env: Env): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end < 0) throw new InterpolationError(`has an unclosed "\${" at character ${i + 1} (write $$ for a literal $)`);
      out += expand(text.slice(i + 2, end), env);
      i = end + 1;
      continue;
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
    if (bare) {
      out += lookup(bare[0], env);
      i += 1 + bare[0].length;
      continue;
    }
    out += '$';
    i++;
  }
  return out;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let j = from; j < text.length; j++) {
    if (text[j] === '$' && text[j + 1] === '$') {
      j++;
      continue;
    }
    if (text[j] === '$' && text[j + 1] === '{') {
      depth++;
      j++;
    } else if (text[j] === '}' && --depth === 0) return j;
  }
  return -1;
}

function lookup(name: string, env: Env): string {
  const v = env[name];
  if (v === undefined) throw new InterpolationError(`uses \${${name}}, which is not set (give a default with \${${name}:-value})`);
  return v;
}

function expand(body: string, env: Env): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(body);
  if (!m) throw new InterpolationError(`has an invalid substitution "\${${body}}" (expected \${NAME}, \${NAME:-default} or \${NAME:?message})`);
  const [, name, op, arg = ''] = m as unknown as [string, string, string | undefined, string | undefined];
  const v = env[name];
  const unset = op?.startsWith(':') ? v === undefined || v === '' : v === undefined;
  switch (op) {
    case undefined:
      return lookup(name, env);
    case ':-':
    case '-':
      return unset ? interpolate(arg, env) : v!;
    case ':?':
    case '?':
      if (unset) throw new InterpolationError(`needs ${name}: ${arg ? interpolate(arg, env) : `${name} is not set`}`);
      return v!;
    case ':+':
    case '+':
      return unset ? '' : interpolate(arg, env);
    default:
      throw new InterpolationError(`has an invalid substitution "\${${body}}"`);
  }
}

/**
 * Interpolates every string value of a located tree in place (keys are left alone, as in
 * Compose). Values that contained a substitution are marked `interpolated` so they can
 * later take the type the schema expects.
 */
export function interpolateTree(node: LNode, env: Env, path: (string | number)[], problems: ConfigProblem[]): void {
  switch (node.kind) {
    case 'scalar':
      if (typeof node.value === 'string' && node.value.includes('$')) {
        try {
          const v = interpolate(node.value, env);
          node.interpolated = /\$\{|\$[A-Za-z_]/.test(node.value.replaceAll('$$', ''));
          node.value = v;
        } catch (err) {
          if (!(err instanceof InterpolationError)) throw err;
          problems.push({ loc: node.loc, path: dotted(path), message: `${JSON.stringify(node.value)} ${err.message}` });
        }
      }
      return;
    case 'seq':
      node.items.forEach((item, i) => interpolateTree(item, env, [...path, i], problems));
      return;
    case 'map':
      for (const [k, e] of node.entries) interpolateTree(e.value, env, [...path, k], problems);
      return;
    default: {
      const never: never = node;
      throw new Error(`unexpected node ${String(never)}`);
    }
  }
}
