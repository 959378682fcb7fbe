// Deterministic fuzzing of the config pipeline: three sample-like documents, mutated
// thousands of times at the YAML level (keys and values deleted, duplicated, retyped,
// garbled) and at the text level (truncated, bytes inserted, lines swapped, indentation
// changed). Whatever the input, loadConfig returns or throws a ConfigError whose problems
// are all worded and located inside the file; the CLI exits 0 or 1 without a stack trace.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError } from '../../src/config/errors.js';
import { loadConfig } from '../../src/config/load.js';

const DOCS = [
  `# yaml-language-server: $schema=../schema/zones.schema.json
name: shop
x-small: &small
  limits: { memory: 128M, pids: 64 }
defaults:
  limits: { memory: 256M, pids: 128 }
  restart: on-failure:3
  stop_grace_period: 5s
global:
  limits:
    cpus: 1.5
    memory: 2G
networks:
  front:
    subnet: 10.213.1.0/24
    gateway: true
    egress: nat
  back:
    subnet: 10.213.2.0/24
zones:
  web:
    <<: *small
    root: sparse
    hostname: web-1
    command: ["node", "/srv/web.js"]
    workdir: /srv
    env: { NODE_ENV: production, PORT: "8080" }
    mounts:
      - { source: ./web, target: /srv, read_only: true }
      - { type: tmpfs, target: /cache, size: 64M }
    limits:
      cpus: 0.5
      memory: 128M
      pids: 64
    networks:
      front: { address: 10.213.1.10, bandwidth: 20mbit, mac: "02:42:0a:d5:01:0a" }
    depends_on: [api]
    restart: on-failure
    ports: ["8080:80", "127.0.0.1:8443:443/tcp"]
  api:
    root: { image: ./images/alpine-minirootfs.tar.gz }
    command: /usr/local/bin/api
    user: "1000:1000"
    networks: [front, back]
    privileges:
      capabilities: { add: [NET_BIND_SERVICE], drop: [CAP_CHOWN] }
      seccomp: default
  db:
    root: { path: ./rootfs/db }
    read_only: true
    command: ["/bin/sh", "-c", "exec db --listen 0.0.0.0:5432"]
    limits: { cpuset: "0-1", memory: 512M, memory_reservation: 256M, memory_swap: 128M, io: { weight: 200, devices: { /dev/vda: { read_bps: 10M, write_iops: 500 } } } }
    networks:
      back:
        bandwidth: { ingress: 100mbit, egress: 50mbit }
`,
  `name: lab
networks:
  lan:
    subnet: 192.168.50.0/24
    gateway: true
  isolated:
    subnet: 172.20.0.0/16
    internal: true
zones:
  router:
    hostname: router.lab
    command: ["/sbin/routerd", "--config", "/etc/routerd.conf"]
    env:
      - LOG_LEVEL=\${LOG_LEVEL:-info}
      - CPUS=\${CPUS:-0.25}
    limits:
      cpus: \${ROUTER_CPUS:-0.25}
      cpu_weight: 500
      pids: max
    networks:
      lan: { address: 192.168.50.2 }
    ports: ["53:53/udp", "8053:53"]
    privileges:
      capabilities: { add: [NET_ADMIN, NET_RAW] }
      userns: true
    stop_grace_period: 1m30s
  relay:
    command: ["/sbin/relayd"]
    networks:
      lan: {}
      isolated: { address: 172.20.0.2 }
  client:
    command: sleep infinity
    networks: [isolated]
    depends_on: [router]
    restart: always
    limits: { memory: 64M, memory_swap: 0 }
`,
  `defaults:
  networks: [mesh]
  limits:
    memory: 96M
    io: { weight: 50 }
networks:
  mesh: { subnet: 10.99.0.0/22 }
zones:
  n1: { command: "exec worker 1", env: { ID: "1" } }
  n2: { command: "exec worker 2", env: { ID: "2" }, depends_on: [n1] }
  n3:
    command: "exec worker 3"
    depends_on: [n1, n2]
    mounts:
      - source: /var/lib/shared
        target: /shared
    limits: { memory: max, cpus: null }
`,
];

/** mulberry32: a small seeded PRNG, so every run mutates the same way. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

const WEIRD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, '', ' ', 'max', 'null', '12 apples', '0-', '10.0.0.0/33', '999.1.1.1', '${UNSET}', '${X:-1}', '$$', '\u0000', '𝔷𝔬𝔫𝔢', 'a'.repeat(300), [], {}, [[]], { a: { b: { c: [1] } } }, ['x', 1, null], '__proto__', 'global', 'on-failure:0'];
const WEIRD_KEYS = ['', ' ', '__proto__', 'constructor', 'global', 'x-y', 'zones', 'limits', 'memory', 'Name', '<<', '0', '/dev/sda', 'a.b', 'comand', 'networks'];
const TEXT_INSERTS = ['\t', ':', ': ', '-', '- ', '{', '}', '[', ']', '"', "'", '&a ', '*a', '*nope', '<<: ', '!!str ', '!tag ', '%', '@', '`', '|', '>', '#', '\n', '\r\n', '\u00a0', '\ufeff', '\u0000', '${', '$$', '---\n', '...\n', '? ', ',', 'é', '😀'];

type Json = unknown;

/** All containers (maps and lists) in a parsed document, with their paths. */
function containers(v: Json, out: { node: Record<string, Json> | Json[] }[] = []): { node: Record<string, Json> | Json[] }[] {
  if (Array.isArray(v)) {
    out.push({ node: v });
    for (const x of v) containers(x, out);
  } else if (v !== null && typeof v === 'object') {
    out.push({ node: v as Record<string, Json> });
    for (const x of Object.values(v)) containers(x, out);
  }
  return out;
}

function garble(r: Rand, s: string): string {
  const i = Math.floor(r() * (s.length + 1));
  const ops = [() => s.slice(0, i) + s.slice(i + 1), () => s.slice(0, i) + pick(r, ['x', '_', '-', '.', 'A', '9', ' ']) + s.slice(i), () => s.toUpperCase(), () => s.split('').reverse().join(''), () => `${s}${s}`];
  return pick(r, ops)();
}

function mutateValue(r: Rand, v: Json): Json {
  if (typeof v === 'string' && r() < 0.5) return garble(r, v);
  if (typeof v === 'number' && r() < 0.5) return pick(r, [-v, v * 1024, v + 0.5, String(v), 0]);
  return structuredClone(pick(r, WEIRD_VALUES));
}

/** One mutation of the document's data, then back to YAML text. */
function mutateYaml(r: Rand, text: string): string {
  const doc = parse(text, { merge: true }) as Json;
  const all = containers(doc);
  const { node } = pick(r, all);
  if (Array.isArray(node)) {
    const i = Math.floor(r() * Math.max(1, node.length));
    const op = Math.floor(r() * 4);
    if (op === 0 && node.length) node.splice(i, 1);
    else if (op === 1 && node.length) node.splice(i, 0, structuredClone(node[i]));
    else if (op === 2) node[i] = mutateValue(r, node[i]);
    else node.push(mutateValue(r, null));
  } else {
    const keys = Object.keys(node);
    const key = keys.length ? pick(r, keys) : 'x';
    const op = Math.floor(r() * 6);
    if (op === 0) delete node[key];
    else if (op === 1) node[garble(r, key)] = node[key];
    else if (op === 2) node[key] = mutateValue(r, node[key]);
    else if (op === 3) {
      const v = node[key];
      delete node[key];
      node[garble(r, key)] = v;
    } else if (op === 4) node[pick(r, WEIRD_KEYS)] = structuredClone(node[key] ?? null);
    else node[key] = Array.isArray(node[key]) ? Object.fromEntries((node[key] as Json[]).map((x, j) => [String(j), x])) : node[key] !== null && typeof node[key] === 'object' ? Object.values(node[key] as object) : [node[key]];
  }
  return stringify(doc, { aliasDuplicateObjects: r() < 0.5, lineWidth: 0 });
}

/** One mutation of the raw text. */
function mutateText(r: Rand, text: string): string {
  const lines = text.split('\n');
  const at = Math.floor(r() * (text.length + 1));
  switch (Math.floor(r() * 7)) {
    case 0: // truncate at a random byte (as UTF-8, possibly inside a character)
      return Buffer.from(text, 'utf8').subarray(0, Math.floor(r() * Buffer.byteLength(text))).toString('utf8');
    case 1: // insert random characters
      return text.slice(0, at) + pick(r, TEXT_INSERTS) + text.slice(at);
    case 2: // insert random bytes
      return text.slice(0, at) + String.fromCharCode(...Array.from({ length: 1 + Math.floor(r() * 4) }, () => Math.floor(r() * 256))) + text.slice(at);
    case 3: {
      // swap two lines
      const i = Math.floor(r() * lines.length);
      const j = Math.floor(r() * lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    }
    case 4: {
      // change one line's indentation
      const i = Math.floor(r() * lines.length);
      const delta = pick(r, [-4, -2, -1, 1, 2, 4]);
      lines[i] = delta > 0 ? ' '.repeat(delta) + lines[i] : lines[i]!.replace(new RegExp(`^ {0,${-delta}}`), '');
      return lines.join('\n');
    }
    case 5: // delete a line
      lines.splice(Math.floor(r() * lines.length), 1);
      return lines.join('\n');
    default: // duplicate a line
      {
        const i = Math.floor(r() * lines.length);
        lines.splice(i, 0, lines[i]!);
      }
      return lines.join('\n');
  }
}

const SEED = 20_251_129;
const ROUNDS = 1000; // per document: 3 documents, 3000 mutations in all
const ENV = { LOG_LEVEL: 'debug', X: '1' };

const work = mkdtempSync(join(tmpdir(), 'zonectl-fuzz-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every mutated input, deterministic from the seed. */
function* mutations(docs: readonly number[] = DOCS.map((_, d) => d)): Generator<{ seed: number; doc: number; text: string }> {
  for (const d of docs) {
    for (let i = 0; i < ROUNDS; i++) {
      const seed = SEED + d * 100_000 + i;
      const r = prng(seed);
      let text = DOCS[d]!;
      const steps = 1 + Math.floor(r() * 3);
      for (let s = 0; s < steps; s++) {
        try {
          text = r() < 0.5 ? mutateYaml(r, text) : mutateText(r, text);
        } catch {
          text = mutateText(r, text); // the mutated text no longer parses: keep mutating it as text
        }
      }
      yield { seed, doc: d, text };
    }
  }
}

describe('fuzzing loadConfig', () => {
  it('starts from documents that are valid', () => {
    DOCS.forEach((text, d) => {
      const file = join(work, `valid-${d}.yaml`);
      writeFileSync(file, text);
      expect(() => loadConfig({ files: [file], env: ENV }), `document ${d}`).not.toThrow();
    });
  });

  // One test per document (${ROUNDS} mutations each), so that a slow machine stays within the timeout.
  it.each(DOCS.map((_, d) => d))(`document %i: ${ROUNDS} mutations return or throw a located ConfigError`, (d) => {
    const file = join(work, `zones-${d}.yaml`);
    let count = 0;
    let rejected = 0;
    for (const { seed, doc, text } of mutations([d])) {
      writeFileSync(file, text);
      const lineCount = text.split(/\r\n|\r|\n/).length;
      try {
        loadConfig({ files: [file], env: ENV });
      } catch (err) {
        if (!(err instanceof ConfigError)) {
          throw new Error(`seed ${seed} (document ${doc}): ${String(err)}\n--- input ---\n${text}\n---`, { cause: err });
        }
        rejected++;
        for (const p of err.problems) {
          const ok = p.message.trim() !== '' && (p.loc === null || (p.loc.line >= 1 && p.loc.col >= 1 && p.loc.line <= lineCount + 1 && p.loc.file === file));
          if (!ok) throw new Error(`seed ${seed} (document ${doc}): bad problem ${JSON.stringify(p)}\n--- input ---\n${text}\n---`);
        }
      }
      count++;
    }
    expect(count).toBe(ROUNDS);
    // The mutations are worth something only if most of them break the file, and some do not.
    expect(rejected).toBeGreaterThan(count / 2);
    expect(rejected).toBeLessThan(count);
  });
});

describe('fuzzing the CLI', () => {
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = join(repo, pkg.bin.zonectl!);
  const picked = [...mutations()].filter((_, i) => i % 150 === 7); // 20 of them

  it.each(picked.map((m) => [m.seed, m] as const))('seed %i: exit 0 or 1, no stack trace', (_, { seed, text }) => {
    const file = join(work, `cli-${seed}.yaml`);
    writeFileSync(file, text);
    const r = spawnSync(process.execPath, [bin, 'validate', '-f', file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...ENV } });
    expect([0, 1], `seed ${seed}: ${r.stderr}`).toContain(r.status);
    expect(r.stderr, `seed ${seed}`).not.toContain('    at ');
    expect(r.stderr, `seed ${seed}`).not.toContain('this is a bug');
  });
});
