// The fast path for the plain subset of YAML against the full path through yaml's Document:
// wherever the fast path answers, its tree equals the full path's, value for value and
// position for position, and the full path finds no problem. Run over the samples, the
// fixtures, a generated 100-zone file, hand-written corner cases and thousands of
// deterministic mutations of all of them (characters deleted and inserted, lines repeated,
// re-indented, swapped).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSimpleYaml } from '../../src/config/simple-yaml.js';
import { parseYaml } from '../../src/config/source.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) yamlFiles(p, out);
    else if (/\.ya?ml$/.test(f)) out.push(p);
  }
  return out;
}

function generated(zones: number): string {
  let y = 'name: gen\nnetworks:\n  seg-a:\n    subnet: 10.213.232.0/22\n  seg-b:\n    subnet: 10.213.236.0/22\nzones:\n';
  for (let i = 0; i < zones; i++) {
    y += `  z${i}:\n    root: sparse\n    command: ["/bin/sleep", "infinity"]\n    limits: { memory: 32M, pids: 16, cpus: 0.1 }\n    networks: [seg-${i % 2 ? 'b' : 'a'}]\n`;
  }
  return y;
}

const CORNERS = [
  'a: -1\nb: +1\nc: 012\nd: 0o17\ne: 0x1F\nf: 1.5\ng: .5\nh: 1.\ni: 1e3\nj: -0\nk: 1_000\nl: 9007199254740993\n',
  'a: ~\nb: null\nc: Null\nd: true\ne: False\nf: TRUE\ng: yes\nh: on\n',
  "a: 'it''s'\nb: \"x # y\"\nc: 'a\\b'\nd: \"\"\ne: ''\n",
  'a: [1, "two", three, [4, {five: 5}], {}]\nb: {x: 1, y: [a, b]}\nc: []\n',
  'a:   spaced   # comment\nb: a#b\nc: http://x:9000/\nd: a:b\n',
  '# c\n\nroot:\n  # c2\n  child:\n    - a\n    - "b"\n    - [c]\n    - {d: 1}\n  other: x\nnext: y\n',
  'a:\n  - 1\n  - 2\nb:\n    deep: 1\n',
  'a: [ 1 , 2 ]\nb: { x: 1 , y: 2 }\nx.y: 1\nx_z: 2\nx/w: 3\n_a: 4\n',
  'a: [a b, c d]\nb: {x: a b}\nc: [-1, -x, ~, null]\nd: 1 # c\n# end',
  'a:\n  b:\n    c:\n      d: [1]\n',
  'io:\n  devices:\n    /dev/vda: { read_bps: 20M, write_iops: 500 }\n    /dev/sdb: {}\n',
  // anchors, aliases and merge keys, as Compose files use them
  'x-small: &small\n  memory: 96M\n  pids: 64\nzones:\n  a:\n    limits:\n      <<: *small\n      cpus: 0.5\n  b:\n    limits: *small\n',
  'a: &x\n  m: 1\n  p: 2\ny: &y\n  p: 5\n  q: 6\nb:\n  <<: *x\n  m: 3\nc:\n  m: 0\n  <<: [*y, *x]\nd: &s hello # c\ne: *s\nf: [*s, *x, {k: *s}]\n',
  'x-env: &env { A: 1, B: "two" }\nx-list: &list\n  - a\n  - &item b\nz:\n  env:\n    <<: *env\n  more: *list\n  one: *item # c\n  q: &q \'quoted\'\n  r: *q\n',
  'base: &b\n  x:\n    y: [1, 2]\nl:\n  - *b\n  - &n 3\n  - *n\nm:\n  <<: &inline { k: v }\n  j: *inline\n',
];

const INSERTS = [' ', ':', '-', '#', '"', "'", '[', ']', '{', '}', ',', '\n', '&', '*', '\t', 'é', '0', '.', '~', ': ', '- ', '\n  ', 'true', 'null', '1e3', '0x1f', '0o7', '-0', '+1', "''", '\\'];

/** Deterministic mutations of `text`. */
function* mutations(text: string, count: number, seed: number): Generator<string> {
  let s = seed;
  const rnd = (n: number): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % n;
  };
  const lines = text.split('\n');
  for (let k = 0; k < count; k++) {
    const i = rnd(text.length + 1);
    const l = [...lines];
    const a = rnd(l.length);
    const b = rnd(l.length);
    switch (rnd(6)) {
      case 0:
        yield text.slice(0, i) + text.slice(i + 1);
        break;
      case 1:
        yield text.slice(0, i) + INSERTS[rnd(INSERTS.length)] + text.slice(i);
        break;
      case 2:
        l.splice(a, 0, l[a]!);
        yield l.join('\n');
        break;
      case 3:
        l[a] = ' '.repeat(rnd(5)) + l[a]!.trimStart();
        yield l.join('\n');
        break;
      case 4:
        [l[a], l[b]] = [l[b]!, l[a]!];
        yield l.join('\n');
        break;
      default:
        yield text.slice(0, i) + INSERTS[rnd(INSERTS.length)] + text.slice(i + rnd(40));
    }
  }
}

/** Texts where the two paths differ (none expected), and how many the fast path answered. */
function compare(texts: Iterable<string>): { fast: number; mismatches: string[] } {
  let fast = 0;
  const mismatches: string[] = [];
  for (const text of texts) {
    const simple = parseSimpleYaml(text, '/p/zones.yaml');
    if (simple === null) continue;
    fast++;
    const full = parseYaml(text, '/p/zones.yaml', { simple: false });
    try {
      expect(full.problems).toEqual([]);
      expect(simple).toStrictEqual(full.node);
    } catch {
      mismatches.push(text);
    }
  }
  return { fast, mismatches };
}

describe('the fast path for plain YAML', () => {
  const corpus = [...yamlFiles(join(repo, 'samples')), ...yamlFiles(join(repo, 'test/fixtures'))].map((f) => readFileSync(f, 'utf8'));
  corpus.push(generated(100), ...CORNERS);

  it('answers for plain files: the generated one, the corner cases, most samples and fixtures', () => {
    expect(parseSimpleYaml(generated(100), 'x')).not.toBeNull();
    for (const c of CORNERS) expect(parseSimpleYaml(c, 'x')).not.toBeNull();
    expect(corpus.filter((t) => parseSimpleYaml(t, 'x') !== null).length).toBeGreaterThan(corpus.length / 2);
  });

  it('builds the same tree as yaml, on the corpus as it is', () => {
    const r = compare(corpus);
    expect(r.mismatches).toEqual([]);
    expect(r.fast).toBeGreaterThan(50);
  });

  it('builds the same tree as yaml, on mutations of the corpus', () => {
    const texts = function* (): Generator<string> {
      for (const [i, t] of corpus.entries()) yield* mutations(t, 150, i + 1);
    };
    const r = compare(texts());
    expect(r.mismatches).toEqual([]);
    expect(r.fast).toBeGreaterThan(5000);
  });

  it('builds the same tree as yaml, with any of a few characters inserted anywhere in the corner cases', () => {
    const texts = function* (): Generator<string> {
      for (const c of CORNERS) for (let i = 0; i <= c.length; i++) for (const ins of ['', ' ', '\n', ':', '#', ',', ']', "'", '"', '- ']) yield c.slice(0, i) + ins + c.slice(i);
    };
    const r = compare(texts());
    expect(r.mismatches).toEqual([]);
    expect(r.fast).toBeGreaterThan(1000);
  });

  it('leaves to yaml what it does not know', () => {
    for (const text of [
      'a: *x\nb: &x 1\n', // an alias before its anchor
      'a: &x 1\nb: &x 2\n', // an anchor defined twice
      'a: &x\n  b: *x\n', // an alias inside its own anchor
      'a: [&x 1, *x]\n', // an anchor inside a flow collection
      'a: &x.y 1\n', // an anchor name beyond the subset's
      'a: &x # c\n  b: 1\n', // a comment after an anchor
      'a: 1\nb:\n  <<: *a\n', // a merge of what is not a map
      'a: &a {x: 1}\nb:\n  <<: *a\n  <<: *a\n', // two merge keys
      'a: !!str 1\n', // tags
      'a: |\n  text\n', // block scalars
      'a: one\n  two\n', // a plain scalar over two lines
      'a: "x\\ty"\n', // escapes
      'a:\nb: 1\n', // a key without a value
      'a: 1\na: 2\n', // a duplicate key
      'a:\n\tb: 1\n', // tabs
      'a: é\n', // non-ASCII text
      '---\na: 1\n', // document markers
      'a: [1,\n  2]\n', // a flow list over two lines
      '- a\n- b\n', // a list at the top
      '"a": 1\n', // quoted keys
      '8080: web\n', // a key that is not a string
      '',
    ]) {
      expect(parseSimpleYaml(text, 'x'), text).toBeNull();
    }
  });
});
