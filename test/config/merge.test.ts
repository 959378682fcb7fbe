// Several -f files: maps merge key by key, lists and scalars are replaced, the later file
// wins, and every value keeps the place (file, line, column) it was written at.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { mergeNodes } from '../../src/config/merge.js';
import type { LMap, LNode } from '../../src/config/source.js';
import { problems } from '../helpers/problems.js';
import { testdir } from '../helpers/testdir.js';

const NETS = `
networks:
  front: { subnet: 10.213.1.0/24, gateway: true }
  back: { subnet: 10.213.2.0/24 }
`;

function load(dir: string, ...names: string[]) {
  return loadConfig({ files: names.map((n) => join(dir, n)), env: {} });
}

describe('merging -f files', () => {
  it('merges maps key by key, replaces lists, and the later file wins', () => {
    const dir = testdir({
      'base.yaml': `${NETS}
zones:
  web:
    command: ["node", "/srv/web.js"]
    env: { A: "1", B: "1" }
    limits: { memory: 128M, pids: 64 }
    networks: [front, back]
    depends_on: [db]
  db:
    command: /bin/db
`,
      'override.yaml': `
zones:
  web:
    env: { B: "2", C: "2" }
    limits: { memory: 256M }
    networks: [back]
    depends_on: []
`,
    });
    const web = load(dir, 'base.yaml', 'override.yaml').desired.zones.web!;
    expect(web.command).toEqual(['node', '/srv/web.js']);
    expect(web.env).toEqual({ A: '1', B: '2', C: '2' });
    expect(web.limits.memory).toBe(256 * 1024 ** 2);
    expect(web.limits.pids).toBe(64);
    expect(Object.keys(web.networks)).toEqual(['back']);
    expect(web.depends_on).toEqual([]);
  });

  it('applies three files in the order given', () => {
    const dir = testdir({
      'a.yaml': 'zones:\n  web: { hostname: from-a, restart: always }\n',
      'b.yaml': 'zones:\n  web: { hostname: from-b }\n',
      'c.yaml': 'zones:\n  web: { hostname: from-c }\n',
    });
    expect(load(dir, 'a.yaml', 'b.yaml', 'c.yaml').desired.zones.web!.hostname).toBe('from-c');
    expect(load(dir, 'c.yaml', 'b.yaml', 'a.yaml').desired.zones.web!.hostname).toBe('from-a');
    expect(load(dir, 'c.yaml', 'a.yaml', 'b.yaml').desired.zones.web!.restart).toEqual({ policy: 'always' });
  });

  it('adds zones and networks from later files', () => {
    const dir = testdir({
      'a.yaml': `${NETS}\nzones:\n  web: { networks: [front] }\n`,
      'b.yaml': 'networks:\n  extra: { subnet: 10.213.9.0/24 }\nzones:\n  api: { networks: [extra] }\n',
    });
    const { desired } = load(dir, 'a.yaml', 'b.yaml');
    expect(Object.keys(desired.zones)).toEqual(['api', 'web']);
    expect(Object.keys(desired.networks)).toEqual(['back', 'extra', 'front']);
    expect(desired.files).toEqual([join(dir, 'a.yaml'), join(dir, 'b.yaml')]);
  });

  it('locates each problem in the file that supplied the value', () => {
    const dir = testdir({
      'base.yaml': 'zones:\n  web:\n    limits:\n      memory: 12 apples\n      cpus: 0.5\n',
      'override.yaml': 'zones:\n  web:\n    limits:\n      pids: 0\n',
    });
    expect(problems(() => load(dir, 'base.yaml', 'override.yaml'))).toEqual([
      'base.yaml:4:15 zones.web.limits.memory: "12 apples" is not a size (e.g. 512M, 1G, or max)',
      'override.yaml:4:13 zones.web.limits.pids: 0 is not a task count (a whole number ≥ 1, or max)',
    ]);
  });

  it('lists problems in the order of the -f files, not by file name', () => {
    const dir = testdir({
      'b.yaml': 'zones:\n  web:\n    restart: sometimes\n',
      'a.yaml': 'zones:\n  api:\n    restart: never\n',
    });
    expect(problems(() => load(dir, 'b.yaml', 'a.yaml')).map((l) => l.split(' ')[0])).toEqual(['b.yaml:3:14', 'a.yaml:3:14']);
  });

  it('forgets a mistake that a later file replaces', () => {
    const dir = testdir({
      'base.yaml': 'zones:\n  web:\n    limits: { memory: 12 apples }\n    networks: [nowhere]\n',
      'override.yaml': 'zones:\n  web:\n    limits: { memory: 1G }\n    networks: []\n',
    });
    expect(load(dir, 'base.yaml', 'override.yaml').desired.zones.web!.limits.memory).toBe(1024 ** 3);
  });

  it('locates a key added by the later file in that file', () => {
    const dir = testdir({
      'base.yaml': 'zones:\n  web:\n    command: /bin/true\n',
      'override.yaml': '# an override\nzones:\n  web:\n    comand: /bin/false\n',
    });
    expect(problems(() => load(dir, 'base.yaml', 'override.yaml'))).toEqual(['override.yaml:4:5 zones.web.comand: unknown key "comand" (did you mean "command"?)']);
  });
});

describe('mergeNodes', () => {
  const loc = (line: number) => ({ file: 'f.yaml', line, col: 1 });
  const scalar = (value: string | null, line: number): LNode => ({ kind: 'scalar', loc: loc(line), value });
  const map = (line: number, entries: Record<string, LNode>): LMap => ({
    kind: 'map',
    loc: loc(line),
    entries: new Map(Object.entries(entries).map(([k, v]) => [k, { keyLoc: v.loc, value: v }])),
  });

  it('keeps base keys, takes over keys and their places, and leaves both inputs alone', () => {
    const base = map(1, { a: scalar('1', 2), b: scalar('1', 3) });
    const over = map(10, { b: scalar('2', 11), c: scalar('2', 12) });
    const merged = mergeNodes(base, over);
    expect(merged.kind).toBe('map');
    const entries = (merged as LMap).entries;
    expect([...entries.keys()]).toEqual(['a', 'b', 'c']);
    expect(entries.get('b')!.value).toEqual(scalar('2', 11));
    expect(entries.get('a')!.value.loc.line).toBe(2);
    expect([...base.entries.keys()]).toEqual(['a', 'b']);
    expect([...over.entries.keys()]).toEqual(['b', 'c']);
  });

  it('replaces a list or a map by a scalar and the other way round', () => {
    const list: LNode = { kind: 'seq', loc: loc(1), items: [scalar('x', 1)] };
    expect(mergeNodes(list, scalar(null, 5))).toEqual(scalar(null, 5));
    expect(mergeNodes(map(1, { a: scalar('1', 1) }), list)).toBe(list);
    expect(mergeNodes(undefined, list)).toBe(list);
  });
});
