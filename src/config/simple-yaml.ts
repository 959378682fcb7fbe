// The plain subset of YAML that most zones files are written in, parsed straight into
// located nodes: block maps and block lists, one-line flow lists and maps, plain and quoted
// one-line scalars, comments, and Compose's way of sharing settings: an anchor on a value
// (`x-small: &small`), an alias of it (`*small`) and merge keys (`<<: *small`). The yaml
// package parses any YAML, but slowly when the process is new (a 100-zone file: ~55 ms of a
// cold start, ~13 ms warm, for ~2 ms here; its first run for a small file ~9 ms), and every
// zonectl command is a new process.
//
// This parser never reports a problem and never guesses: at the first thing outside the
// subset (an anchor inside a flow collection or defined twice, an alias before its anchor,
// tags, multi-line or escaped scalars, a key without a value, a duplicate key, tabs,
// non-ASCII text...) it returns null and parseYaml hands the whole text to the yaml package,
// which also reports every mistake. What it does return equals what parseYaml builds from
// yaml's Document, value for value and position for position (test/config/simple-yaml.test.ts
// compares the two over samples, fixtures and thousands of mutations of them).

import type { Loc } from './errors.js';
import type { LEntry, LMap, LNode, LScalar, LSeq, Scalar } from './source.js';

const MAX_DEPTH = 64;

/** A key the subset accepts: plain, and a string under the core schema (not `true`, `null`, `8080`). */
const KEY = /^[A-Za-z_/][A-Za-z0-9_./-]*/;
const NOT_STRING_KEY = /^(?:[Nn]ull|NULL|[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
/** An anchor's or alias's name the subset accepts (YAML allows more; those are yaml's). */
const NAME = /^[A-Za-z0-9_-]+/;
/** Nodes made by aliases, at most (yaml refuses a file that expands past 200,000). */
const MAX_COPIES = 50_000;

class Decline extends Error {}

const decline = (): never => {
  throw new Decline();
};

interface Line {
  /** 1-based. */
  number: number;
  /** Spaces before the content. */
  indent: number;
  /** The line without its indentation. */
  content: string;
}

/** The located tree of `text`, or null when it uses anything beyond the subset. */
export function parseSimpleYaml(text: string, file: string): LNode | null {
  // Printable ASCII and newlines only: no tabs, CR, BOM or non-ASCII line breaks to reason about.
  if (!/^[\x20-\x7e\n]*$/.test(text)) return null;
  const lines: Line[] = [];
  let number = 1;
  for (const raw of text.split('\n')) {
    if (raw.length >= 1000) return null; // yaml refuses implicit keys over 1024 characters: long lines are its business
    const indent = raw.length - raw.trimStart().length;
    const content = raw.slice(indent);
    // Blank lines and whole-line comments carry nothing.
    if (content !== '' && !content.startsWith('#')) lines.push({ number, indent, content: content.trimEnd() });
    number++;
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return null;
  try {
    const p = new BlockParser(lines, file);
    const root = p.map(0, 0);
    return p.next === lines.length ? root : null;
  } catch (err) {
    if (err instanceof Decline) return null;
    throw err;
  }
}

class BlockParser {
  /** Index of the next line to read. */
  next = 0;
  /** Each anchor's node, once it is parsed (an alias inside its own anchor is yaml's to refuse). */
  private readonly anchors = new Map<string, LNode>();
  private copies = 0;

  constructor(
    private readonly lines: Line[],
    private readonly file: string,
  ) {}

  private loc(line: Line, column: number): Loc {
    return { file: this.file, line: line.number, col: line.indent + column + 1 };
  }

  /** A block map whose keys sit at `indent`. */
  map(indent: number, depth: number): LMap {
    if (depth > MAX_DEPTH) decline();
    const first = this.lines[this.next]!;
    const entries = new Map<string, LEntry>();
    let merged: LMap[] | null = null;
    while (this.next < this.lines.length) {
      const line = this.lines[this.next]!;
      if (line.indent < indent) break;
      if (line.indent > indent) decline(); // a continuation line, or a stray indent
      if (line.content.startsWith('<<: ')) {
        // A merge key: a map, or a flow list of maps (aliases, mostly), on this line. A second
        // one is a duplicate key, and anything else in it a mistake: yaml reports those.
        if (merged !== null) decline();
        this.next++;
        const after = line.content.slice(4).trimStart();
        if (after === '' || after.startsWith('#')) decline();
        const value = this.node(line, line.content.length - after.length, null, depth + 1);
        merged = (value.kind === 'seq' ? value.items : [value]).map((m) => (m.kind === 'map' ? m : decline()));
        continue;
      }
      const key = KEY.exec(line.content)?.[0];
      if (key === undefined || NOT_STRING_KEY.test(key) || entries.has(key)) decline();
      const rest = line.content.slice(key!.length);
      if (!rest.startsWith(':') || (rest.length > 1 && rest[1] !== ' ')) decline();
      const keyLoc = this.loc(line, 0);
      this.next++;
      const after = rest.slice(1).trimStart();
      const value = after === '' || after.startsWith('#') ? this.block(indent, depth + 1) : this.node(line, line.content.length - after.length, indent, depth + 1);
      entries.set(key!, { keyLoc, value });
    }
    // Explicit keys win; among merged maps, the earlier one wins (as src/config/source.ts does).
    for (const m of merged ?? []) {
      for (const [k, e] of m.entries) if (!entries.has(k)) entries.set(k, e);
    }
    return { kind: 'map', loc: this.loc(first, 0), entries };
  }

  /** A map's value on the lines below its key, more indented; none (a null value) is left to yaml. */
  private block(indent: number, depth: number): LNode {
    const below = this.lines[this.next];
    if (below === undefined || below.indent <= indent) decline();
    return below!.content === '-' || below!.content.startsWith('- ') ? this.seq(below!.indent, depth) : this.map(below!.indent, depth);
  }

  /**
   * A value that starts at `column` of `line`: an anchored value (`&name` and a value on this
   * line, or, after a key at `indent`, the block below), an alias, or an inline value.
   */
  private node(line: Line, column: number, indent: number | null, depth: number): LNode {
    const s = line.content;
    if (s[column] === '*') {
      const [node, end] = this.alias(s, column, depth);
      const tail = s.slice(end).trimStart(); // a comment may follow, after a space
      if (tail !== '' && (s[end] !== ' ' || !tail.startsWith('#'))) decline();
      return node;
    }
    if (s[column] !== '&') return this.inline(line, column, depth);
    const name = NAME.exec(s.slice(column + 1))?.[0];
    if (name === undefined || this.anchors.has(name)) decline(); // redefined: yaml's
    const end = column + 1 + name!.length;
    let value: LNode;
    if (end === s.length && indent !== null) {
      value = this.block(indent, depth);
    } else {
      const after = s.slice(end).trimStart();
      // a comment, or an alias, after an anchor: yaml's
      if (s[end] !== ' ' || after === '' || after.startsWith('#') || after.startsWith('*') || after.startsWith('&')) decline();
      value = this.inline(line, s.length - after.length, depth);
    }
    this.anchors.set(name!, value);
    return value;
  }

  /** The alias at `at` of `s` (`*name`): a copy of its anchor's node, and where its name ends. */
  readonly alias = (s: string, at: number, depth: number): [LNode, number] => {
    const name = NAME.exec(s.slice(at + 1))?.[0];
    const target = name === undefined ? undefined : this.anchors.get(name);
    if (target === undefined) decline(); // unknown, or not yet parsed
    return [this.copy(target!, depth), at + 1 + name!.length];
  };

  /** A copy of `n` with its positions: yaml gives each use of an anchor nodes of its own. */
  private copy(n: LNode, depth: number): LNode {
    if (++this.copies > MAX_COPIES) decline();
    if (n.kind === 'scalar') return { kind: 'scalar', loc: { ...n.loc }, value: n.value };
    if (depth > MAX_DEPTH) decline();
    if (n.kind === 'seq') return { kind: 'seq', loc: { ...n.loc }, items: n.items.map((i) => this.copy(i, depth + 1)) };
    const entries = new Map<string, LEntry>();
    for (const [k, e] of n.entries) entries.set(k, { keyLoc: { ...e.keyLoc }, value: this.copy(e.value, depth + 1) });
    return { kind: 'map', loc: { ...n.loc }, entries };
  }

  /** A block list whose dashes sit at `indent`; each item on its dash's line. */
  private seq(indent: number, depth: number): LSeq {
    if (depth > MAX_DEPTH) decline();
    const first = this.lines[this.next]!;
    const items: LNode[] = [];
    while (this.next < this.lines.length) {
      const line = this.lines[this.next]!;
      if (line.indent < indent) break;
      if (line.indent > indent || !line.content.startsWith('- ')) decline();
      this.next++;
      const after = line.content.slice(2).trimStart();
      if (after === '' || after.startsWith('#')) decline(); // an item on the lines below
      items.push(this.node(line, line.content.length - after.length, null, depth + 1));
    }
    return { kind: 'seq', loc: this.loc(first, 0), items };
  }

  /** A value that starts at `column` of `line` and ends on it (a comment may follow). */
  private inline(line: Line, column: number, depth: number): LNode {
    const s = line.content;
    const c = s[column]!;
    let node: LNode;
    let end: number;
    if (c === '[' || c === '{') {
      const flow = new FlowParser(s, (col) => this.loc(line, col), this.alias);
      node = flow.collection(column, depth);
      end = flow.pos;
    } else if (c === '"' || c === "'") {
      [node, end] = quoted(s, column, this.loc(line, column));
    } else {
      // A plain scalar runs to the end of the line or to a comment.
      const hash = s.indexOf(' #', column);
      const text = (hash < 0 ? s.slice(column) : s.slice(column, hash)).trimEnd();
      if (!plainStart(text) || /[[\]{},`]|: /.test(text) || text.endsWith(':')) decline();
      return { kind: 'scalar', loc: this.loc(line, column), value: resolvePlain(text) };
    }
    const tail = s.slice(end).trimStart();
    if (tail !== '' && (!tail.startsWith('#') || s[end] !== ' ')) decline();
    return node;
  }
}

/** One-line flow collections: `[a, "b", {c: 1}]`, `{ memory: 32M, pids: 16 }`, `{}`. */
class FlowParser {
  pos = 0;

  constructor(
    private readonly s: string,
    private readonly loc: (column: number) => Loc,
    private readonly alias: (s: string, at: number, depth: number) => [LNode, number],
  ) {}

  private spaces(): void {
    while (this.s[this.pos] === ' ') this.pos++;
  }

  collection(at: number, depth: number): LMap | LSeq {
    if (depth > MAX_DEPTH) decline();
    const s = this.s;
    const isMap = s[at] === '{';
    const close = isMap ? '}' : ']';
    this.pos = at + 1;
    const items: LNode[] = [];
    const entries = new Map<string, LEntry>();
    this.spaces();
    if (s[this.pos] === close) {
      this.pos++;
    } else {
      for (;;) {
        if (isMap) {
          const key = KEY.exec(s.slice(this.pos))?.[0];
          if (key === undefined || NOT_STRING_KEY.test(key) || entries.has(key)) decline();
          const keyLoc = this.loc(this.pos);
          this.pos += key!.length;
          if (s[this.pos] !== ':' || s[this.pos + 1] !== ' ') decline();
          this.pos += 2;
          this.spaces();
          entries.set(key!, { keyLoc, value: this.item(depth + 1) });
        } else {
          items.push(this.item(depth + 1));
        }
        this.spaces();
        const c = s[this.pos];
        if (c === close) {
          this.pos++;
          break;
        }
        if (c !== ',') decline();
        this.pos++;
        this.spaces();
        if (s[this.pos] === close || s[this.pos] === ',') decline(); // a trailing or empty entry
      }
    }
    return isMap ? { kind: 'map', loc: this.loc(at), entries } : { kind: 'seq', loc: this.loc(at), items };
  }

  private item(depth: number): LNode {
    const s = this.s;
    const c = s[this.pos];
    if (c === '[' || c === '{') return this.collection(this.pos, depth);
    if (c === '*') {
      const [node, end] = this.alias(s, this.pos, depth);
      if (end < s.length && !' ,]}'.includes(s[end]!)) decline();
      this.pos = end;
      return node;
    }
    if (c === '"' || c === "'") {
      const [node, end] = quoted(s, this.pos, this.loc(this.pos));
      this.pos = end;
      return node;
    }
    const from = this.pos;
    while (this.pos < s.length && !',[]{}'.includes(s[this.pos]!)) this.pos++;
    const text = s.slice(from, this.pos).trimEnd();
    // `a: b` inside a list (a one-pair map), `#` and `:` are left to yaml.
    if (!plainStart(text) || /[#:`]/.test(text)) decline();
    return { kind: 'scalar', loc: this.loc(from), value: resolvePlain(text) };
  }
}

/** Whether a plain scalar may start so: not empty, not with an indicator (`-1` and `-x` may). */
function plainStart(text: string): boolean {
  if (text === '') return false;
  const c = text[0]!;
  if (c === '-') return /^-[A-Za-z0-9]/.test(text);
  return !'?:,[]{}#&*!|>\'"%@`'.includes(c);
}

/** A one-line quoted scalar starting at `at`: its node and the offset after the closing quote. */
function quoted(s: string, at: number, loc: Loc): [LScalar, number] {
  const q = s[at]!;
  let value = '';
  let i = at + 1;
  for (;;) {
    const j = s.indexOf(q, i);
    if (j < 0) decline(); // closed on a later line
    value += s.slice(i, j);
    if (q === "'" && s[j + 1] === "'") {
      value += "'";
      i = j + 2;
      continue;
    }
    i = j + 1;
    break;
  }
  if (q === '"' && value.includes('\\')) decline(); // escapes are left to yaml
  return [{ kind: 'scalar', loc, value }, i];
}

/** A plain scalar's value under YAML 1.2's core schema, as yaml resolves it (its tags, in its order). */
function resolvePlain(text: string): Scalar {
  if (/^(?:~|[Nn]ull|NULL)?$/.test(text)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(text)) return text[0] === 't' || text[0] === 'T';
  if (/^0o[0-7]+$/.test(text)) return parseInt(text.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(text)) return parseInt(text, 10);
  if (/^0x[0-9a-fA-F]+$/.test(text)) return parseInt(text.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(text)) decline();
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(text)) return parseFloat(text);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(text)) return parseFloat(text);
  return text;
}
