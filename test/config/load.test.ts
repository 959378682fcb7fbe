// loadConfig end to end: -f DIR, anchors and merge keys, defaults, the project name,
// x- keys, YAML 1.2 scalars and paths relative to the declaring file.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { problems } from '../helpers/problems.js';
import { testdir } from '../helpers/testdir.js';

describe('-f DIR', () => {
  it('reads every *.yaml and *.yml in it, sorted by name; later files win', () => {
    const dir = testdir({
      'zones/10-web.yaml': 'zones:\n  web: { hostname: ten }\n',
      'zones/02-base.yml': 'name: gitops\nzones:\n  web: { hostname: two, restart: always }\n',
      'zones/20-api.yaml': 'zones:\n  api: {}\n',
      'zones/.hidden.yaml': 'zones:\n  hidden: {}\n',
      'zones/notes.txt': 'zones: [not, yaml]\n',
      'zones/sub/99-nested.yaml': 'zones:\n  nested: {}\n',
    });
    const { desired, directories } = loadConfig({ files: [join(dir, 'zones')], env: {} });
    expect(desired.files).toEqual(['02-base.yml', '10-web.yaml', '20-api.yaml'].map((f) => join(dir, 'zones', f)));
    expect(Object.keys(desired.zones)).toEqual(['api', 'web']);
    expect(desired.zones.web!.hostname).toBe('ten');
    expect(desired.zones.web!.restart).toEqual({ policy: 'always' });
    expect(directories).toEqual([join(dir, 'zones')]);
  });

  it('refuses a directory without zones files, and a missing path', () => {
    const dir = testdir({ 'empty/': '' });
    expect(problems(() => loadConfig({ files: [join(dir, 'empty')], env: {} }))).toEqual([`${join(dir, 'empty')} holds no *.yaml or *.yml file`]);
    expect(problems(() => loadConfig({ files: ['nope.yaml'], cwd: dir, env: {} }))).toEqual(['cannot read nope.yaml: no such file or directory']);
  });

  it('finds zones.yaml in the working directory, or the files named by $ZONECTL_FILE', () => {
    const dir = testdir({ 'zones.yaml': 'zones:\n  web: {}\n', 'other.yaml': 'zones:\n  other: {}\n' });
    expect(Object.keys(loadConfig({ cwd: dir, env: {} }).desired.zones)).toEqual(['web']);
    expect(Object.keys(loadConfig({ cwd: dir, env: { ZONECTL_FILE: 'zones.yaml:other.yaml' } }).desired.zones)).toEqual(['other', 'web']);
    const empty = testdir({}, { name: 'nothing' });
    expect(problems(() => loadConfig({ cwd: empty, env: {} }))).toEqual([`no zones.yaml in ${empty} (give one with -f FILE or -f DIR)`]);
  });
});

describe('anchors and merge keys', () => {
  it('merges <<: *anchor under a map; its own keys win; the earlier of several merges wins', () => {
    const dir = testdir({
      'zones.yaml': `
x-small: &small
  limits: { memory: 128M, pids: 32 }
  restart: on-failure:3
x-big: &big
  limits: { memory: 1G }
  restart: always
  hostname: big
zones:
  web:
    <<: *small
    restart: always
  api:
    <<: [*small, *big]
  db:
    limits:
      <<: { memory: 256M }
      pids: 16
`,
    });
    const { zones } = loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }).desired;
    expect(zones.web!.limits.memory).toBe(128 * 1024 ** 2);
    expect(zones.web!.restart).toEqual({ policy: 'always' });
    expect(zones.api!.restart).toEqual({ policy: 'on-failure', max_retries: 3 });
    expect(zones.api!.hostname).toBe('big');
    expect(zones.api!.limits.pids).toBe(32);
    expect(zones.db!.limits).toMatchObject({ memory: 256 * 1024 ** 2, pids: 16 });
  });

  it('locates a mistake reached through an alias where the anchor defined it', () => {
    const dir = testdir({ 'zones.yaml': 'x-limits: &limits\n  memory: 12 apples\nzones:\n  web:\n    limits: *limits\n' });
    expect(problems(() => loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }))).toEqual([
      'zones.yaml:2:11 zones.web.limits.memory: "12 apples" is not a size (e.g. 512M, 1G, or max)',
    ]);
  });

  it('refuses a self-referencing alias and a billion laughs without hanging', () => {
    const laughs = ['x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
    for (let i = 1; i < 9; i++) laughs.push(`x-${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const dir = testdir({ 'laughs.yaml': `${laughs.join('\n')}\n` });
    expect(problems(() => loadConfig({ files: [join(dir, 'laughs.yaml')], env: {} }))).toEqual([
      'laughs.yaml:1:1 the file nests deeper than 64 levels or expands to more than 200000 values',
    ]);
  });
});

describe('defaults', () => {
  const ZONES = `
networks:
  front: { subnet: 10.213.1.0/24 }
  back: { subnet: 10.213.2.0/24 }
defaults:
  limits: { memory: 256M, pids: 128 }
  networks: [front, back]
  env: { LOG: info, TZ: UTC }
  restart: on-failure
zones:
  web:
    limits: { memory: 64M }
    networks: [front]
    env: { LOG: debug }
  api:
    restart: always
  plain:
`;

  it('is merged under every zone: the zone wins, maps merge, lists replace', () => {
    const dir = testdir({ 'zones.yaml': ZONES });
    const { zones } = loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }).desired;
    expect(zones.web!.limits).toMatchObject({ memory: 64 * 1024 ** 2, pids: 128 });
    expect(Object.keys(zones.web!.networks)).toEqual(['front']);
    expect(zones.web!.env).toEqual({ LOG: 'debug', TZ: 'UTC' });
    expect(zones.web!.restart).toEqual({ policy: 'on-failure', max_retries: null });
    expect(zones.api!.restart).toEqual({ policy: 'always' });
    expect(Object.keys(zones.api!.networks)).toEqual(['back', 'front']);
    expect(zones.plain!.limits.memory).toBe(256 * 1024 ** 2);
  });

  it('reports a mistake every zone inherits once, at its place under defaults', () => {
    const dir = testdir({
      'zones.yaml': 'defaults:\n  limits:\n    memory: 12 apples\n    cpuset: "3-1"\n  networks: [nowhere]\nzones:\n  a: {}\n  b: {}\n  c: {}\n',
    });
    expect(problems(() => loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }))).toEqual([
      'zones.yaml:3:13 defaults.limits.memory: "12 apples" is not a size (e.g. 512M, 1G, or max)',
      'zones.yaml:4:13 defaults.limits.cpuset: "3-1" has a range that runs backwards (3-1)',
      'zones.yaml:5:14 defaults.networks[0]: network "nowhere" is not declared under networks',
    ]);
  });

  it('checks rules between keys once merged: swap in defaults with memory in each zone is fine', () => {
    const dir = testdir({ 'zones.yaml': 'defaults:\n  limits: { memory_swap: 64M }\nzones:\n  a:\n    limits: { memory: 128M }\n' });
    expect(loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }).desired.zones.a!.limits.memory_swap).toBe(64 * 1024 ** 2);
    const bad = testdir({ 'zones.yaml': 'defaults:\n  limits: { memory_swap: 64M }\nzones:\n  a: {}\n' });
    expect(problems(() => loadConfig({ files: [join(bad, 'zones.yaml')], env: {} }))).toEqual([
      'zones.yaml:2:26 zones.a.limits.memory_swap: needs memory: swap is allowed on top of a memory cap',
    ]);
  });
});

describe('the project name', () => {
  const file = 'name: from-file\nzones: {}\n';

  it('is -p, then $ZONECTL_PROJECT_NAME, then name:, then the directory name', () => {
    const dir = testdir({ 'zones.yaml': file }, { name: 'shop' });
    const f = [join(dir, 'zones.yaml')];
    expect(loadConfig({ files: f, projectName: 'from-flag', env: { ZONECTL_PROJECT_NAME: 'from-env' } }).desired.project).toBe('from-flag');
    expect(loadConfig({ files: f, env: { ZONECTL_PROJECT_NAME: 'from-env' } }).desired.project).toBe('from-env');
    expect(loadConfig({ files: f, env: {} }).desired.project).toBe('from-file');
    const unnamed = testdir({ 'zones.yaml': 'zones: {}\n' }, { name: 'shop' });
    expect(loadConfig({ files: [join(unnamed, 'zones.yaml')], env: {} }).desired.project).toBe('shop');
  });

  it('normalises the directory name into a DNS label', () => {
    const dir = testdir({ 'zones.yaml': 'zones: {}\n' }, { name: '__My_Shop.v2--' });
    expect(loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }).desired.project).toBe('my-shop-v2');
  });

  it('refuses an invalid -p or a directory name it cannot turn into one', () => {
    const dir = testdir({ 'zones.yaml': 'zones: {}\n' }, { name: '___' });
    expect(problems(() => loadConfig({ files: [join(dir, 'zones.yaml')], projectName: 'Bad Name', env: {} }))).toEqual([
      `project name "Bad Name" is not valid: use lowercase letters, digits and '-', at most 63 characters`,
    ]);
    expect(problems(() => loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }))).toEqual([
      'zones.yaml:1:1 name: cannot derive a project name from the directory "___": set name: or use -p',
    ]);
  });
});

describe('values', () => {
  it('ignores top-level x- keys, and only those', () => {
    const dir = testdir({ 'zones.yaml': 'x-anything: { whatever: [1, 2] }\nx-note: hello\nzones:\n  web: {}\n' });
    expect(Object.keys(loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }).desired.zones)).toEqual(['web']);
    const inZone = testdir({ 'zones.yaml': 'zones:\n  web:\n    x-note: hello\n' });
    expect(problems(() => loadConfig({ files: [join(inZone, 'zones.yaml')], env: {} }))).toEqual(['zones.yaml:3:5 zones.web.x-note: unknown key "x-note"']);
  });

  it('reads YAML 1.2: restart: no is the string "no", on/yes/off are strings too', () => {
    const dir = testdir({ 'zones.yaml': 'zones:\n  web:\n    restart: no\n    hostname: on\n    env: { A: yes, B: off, C: 0o17, D: 010 }\n' });
    const web = loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }).desired.zones.web!;
    expect(web.restart).toEqual({ policy: 'no' });
    expect(web.hostname).toBe('on');
    expect(web.env).toEqual({ A: 'yes', B: 'off', C: '15', D: '10' });
  });

  it('resolves relative mount sources and root paths against the file that declares them', () => {
    const dir = testdir({
      'zones.yaml': 'defaults:\n  mounts: [{ source: ./shared, target: /shared }]\nzones:\n  web:\n    root: { path: ./rootfs/web }\n  db: {}\n',
      'overrides/db.yaml': 'zones:\n  db:\n    root: { image: ../images/db.tar.gz }\n    mounts:\n      - { source: data, target: /var/lib/db }\n      - { source: /srv/abs/../x, target: /x }\n',
    });
    const { zones } = loadConfig({ files: [join(dir, 'zones.yaml'), join(dir, 'overrides/db.yaml')], env: {} }).desired;
    expect(zones.web!.root).toEqual({ kind: 'path', path: join(dir, 'rootfs/web') });
    expect(zones.web!.mounts).toEqual([{ type: 'bind', source: join(dir, 'shared'), target: '/shared', read_only: false }]);
    expect(zones.db!.root).toEqual({ kind: 'image', image: join(dir, 'images/db.tar.gz') });
    expect(zones.db!.mounts).toEqual([
      { type: 'bind', source: join(dir, 'overrides/data'), target: '/var/lib/db', read_only: false },
      { type: 'bind', source: '/srv/x', target: '/x', read_only: false },
    ]);
  });

  it('accepts an empty file and an empty zones map', () => {
    const dir = testdir({ 'empty.yaml': '', 'comments.yaml': '# nothing yet\n', 'zones.yaml': 'zones:\nnetworks:\n' });
    const { desired } = loadConfig({ files: ['empty.yaml', 'comments.yaml', 'zones.yaml'].map((f) => join(dir, f)), env: {} });
    expect(desired.zones).toEqual({});
    expect(desired.networks).toEqual({});
  });

  it('reports every mistake of every file at once', () => {
    const dir = testdir({ 'a.yaml': 'zones:\n  web:\n    comand: x\n', 'b.yaml': 'zones: [\n', 'c.yaml': 'zones:\n  api:\n    restart: sometimes\n' });
    const lines = problems(() => loadConfig({ files: ['a.yaml', 'b.yaml', 'c.yaml'].map((f) => join(dir, f)), env: {} }));
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['a.yaml:3:5', 'b.yaml:2:1', 'c.yaml:3:14']);
  });
});
