// YAML text → a located tree (LNode): every map key, value and list item keeps the file,
// line and column it was written at, through anchors, aliases and merge keys (<<).

import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node, type YAMLError } from 'yaml';
import type { ConfigProblem, Loc } from './errors.js';
import { parseSimpleYaml } from './simple-yaml.js';

export type Scalar = string | number | boolean | null;

export interface LScalar {
  kind: 'scalar';
  loc: Loc;
  value: Scalar;
  /** Set when the value was produced by ${...} interpolation. */
  interpolated?: boolean;
}
export interface LSeq {
  kind: 'seq';
  loc: Loc;
  items: LNode[];
}
export interface LEntry {
  keyLoc: Loc;
  value: LNode;
}
export interface LMap {
  kind: 'map';
  loc: Loc;
  entries: Map<string, LEntry>;
}
export type LNode = LScalar | LSeq | LMap;

/** Beyond this many nodes (after alias expansion) a file is refused: no "billion laughs". */
const MAX_NODES = 200_000;
const MAX_DEPTH = 64;

export interface Parsed {
  node: LNode | null;
  problems: ConfigProblem[];
}

/**
 * `simple: false` skips the fast path for the plain subset (src/config/simple-yaml.ts), which
 * tests compare with this full path.
 */
export function parseYaml(text: string, file: string, opts: { simple?: boolean } = {}): Parsed {
  if (opts.simple !== false) {
    const node = parseSimpleYaml(text, file);
    if (node !== null) return { node, problems: [] };
  }
  const lineCounter = new LineCounter();
  const problems: ConfigProblem[] = [];
  const locOf = (offset: number | undefined): Loc => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, col };
  };
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, version: '1.2', schema: 'core', merge: false, uniqueKeys: true, prettyErrors: false, strict: true });
  } catch (err) {
    return { node: null, problems: [{ loc: { file, line: 1, col: 1 }, path: '', message: `cannot parse YAML: ${String(err)}` }] };
  }
  for (const e of doc.errors) {
    problems.push({ loc: locOf(errorOffset(text, e)), path: '', message: yamlMessage(e.code, e.message) });
  }
  if (problems.length > 0) return { node: null, problems };

  let count = 0;
  const active = new Set<Node>();
  const convert = (n: Node | null | undefined, fallback: number): LNode | null => {
    if (++count > MAX_NODES || active.size > MAX_DEPTH) throw new TooLarge();
    if (n === null || n === undefined) return { kind: 'scalar', loc: locOf(fallback), value: null };
    if (isAlias(n)) {
      const target = n.resolve(doc);
      if (!target) {
        problems.push({ loc: locOf(n.range?.[0]), path: '', message: `unknown alias *${n.source}` });
        return null;
      }
      if (active.has(target)) {
        problems.push({ loc: locOf(n.range?.[0]), path: '', message: `alias *${n.source} refers to itself` });
        return null;
      }
      return convert(target, n.range?.[0] ?? fallback);
    }
    const loc = locOf(n.range?.[0] ?? fallback);
    if (isScalar(n)) {
      const v = n.value;
      if (v === null || typeof v === 'string' || typeof v === 'boolean') return { kind: 'scalar', loc, value: v };
      if (typeof v === 'number') return { kind: 'scalar', loc, value: v };
      if (typeof v === 'bigint') return { kind: 'scalar', loc, value: Number(v) };
      return { kind: 'scalar', loc, value: String(v) };
    }
    active.add(n);
    try {
      if (isSeq(n)) {
        const items: LNode[] = [];
        for (const item of n.items) {
          const c = convert(item as Node, n.range?.[0] ?? fallback);
          if (c) items.push(c);
        }
        return { kind: 'seq', loc, items };
      }
      if (isMap(n)) {
        const entries = new Map<string, LEntry>();
        const merged: LMap[] = [];
        for (const pair of n.items) {
          const keyNode = pair.key as Node | null;
          const keyLoc = locOf(keyNode?.range?.[0] ?? n.range?.[0]);
          if (!isScalar(keyNode) || (keyNode.value !== null && typeof keyNode.value === 'object')) {
            problems.push({ loc: keyLoc, path: '', message: 'a key must be plain text, not a list or a map' });
            continue;
          }
          const key = String(keyNode.value);
          const valueOffset = keyNode.range?.[1] ?? n.range?.[0] ?? fallback;
          if (key === '<<' && keyNode.source === '<<') {
            const valueNode = pair.value as Node | null;
            const v = convert(valueNode, valueOffset);
            const sources = v?.kind === 'seq' ? v.items : v ? [v] : [];
            sources.forEach((s, i) => {
              if (s.kind === 'map') return void merged.push(s);
              // Shown where the merge names it (`<<: *limits`), not where the anchor was defined.
              const written = isSeq(valueNode) ? (valueNode.items[i] as Node | undefined) : valueNode;
              problems.push({ loc: locOf(written?.range?.[0] ?? valueOffset), path: '', message: 'a merge key (<<) takes a map or a list of maps (use an alias like *defaults)' });
            });
            continue;
          }
          const value = convert(pair.value as Node, valueOffset);
          if (value) entries.set(key, { keyLoc, value });
        }
        // Merge keys: explicit keys win; among merged maps, the earlier one wins.
        for (const m of merged) {
          for (const [k, e] of m.entries) if (!entries.has(k)) entries.set(k, e);
        }
        return { kind: 'map', loc, entries };
      }
    } finally {
      active.delete(n);
    }
    problems.push({ loc, path: '', message: 'unsupported YAML node' });
    return null;
  };

  try {
    const node = doc.contents === null ? null : convert(doc.contents as Node, 0);
    return { node, problems };
  } catch (err) {
    if (err instanceof TooLarge) {
      return { node: null, problems: [{ loc: { file, line: 1, col: 1 }, path: '', message: `the file nests deeper than ${MAX_DEPTH} levels or expands to more than ${MAX_NODES} values` }] };
    }
    throw err;
  }
}

class TooLarge extends Error {}

/**
 * Where a YAML error is best shown. yaml reports a bad indentation at the start of the line
 * (show the misplaced key instead) and an unclosed quote at the end of the file (show the
 * opening quote: the last unescaped one, since any later one would have closed it).
 */
function errorOffset(text: string, e: YAMLError): number {
  const offset = e.pos[0];
  if (e.code === 'BAD_INDENT') {
    let i = offset;
    while (text[i] === ' ') i++;
    return i < text.length && text[i] !== '\n' && text[i] !== '\r' ? i : offset;
  }
  const quote = /^Missing closing (["'])quote/.exec(e.message)?.[1];
  if (e.code === 'MISSING_CHAR' && quote) {
    for (let i = Math.min(offset, text.length) - 1; i >= 0; i--) {
      if (text[i] !== quote) continue;
      if (quote === "'" && text[i - 1] === "'") {
        i--; // '' is an escaped quote inside '...'
        continue;
      }
      if (quote === '"') {
        let slashes = 0;
        while (text[i - 1 - slashes] === '\\') slashes++;
        if (slashes % 2 === 1) continue; // \" is an escaped quote inside "..."
      }
      return i;
    }
  }
  return offset;
}

/** yaml's messages carry "at line N, column M" and a source excerpt: keep the first sentence. */
function yamlMessage(code: string, message: string): string {
  if (code === 'MULTIPLE_DOCS') return 'the file holds more than one YAML document (---): use one document per file, or several files with -f';
  const first = message.split('\n')[0] ?? message;
  const plain = first.replace(/ at line \d+, column \d+:?$/, '').trim();
  return plain.charAt(0).toLowerCase() + plain.slice(1);
}
