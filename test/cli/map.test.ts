// bin/zonectl.cjs maps the bundle's scripts and code caches (native/src/map.c) instead of
// reading them. Each check runs in a plain `node` child, as the CLI does: V8 accepts a code
// cache only under the flags it was made with, and a test runner's process may have others.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const addon = join(repo, 'native', 'build', 'Release', 'zonectl_map.node');
const work = mkdtempSync(join(tmpdir(), 'zt-map-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs `body` in a node child with `map` (the addon's exports) and `vm` in scope; returns what it prints as JSON. */
function child(body: string): unknown {
  const script = `const vm = require('node:vm'); const m = { exports: {} }; process.dlopen(m, ${JSON.stringify(addon)}); const map = m.exports;\n${body}`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
}

describe('the bundle, mapped', () => {
  it('is built by npm ci', () => {
    expect(existsSync(addon)).toBe(true);
  });

  it('gives the files as they are, and V8 takes the mapped cache with the mapped source', () => {
    const js = join(repo, 'dist', 'zonectl-host.js');
    const cache = join(repo, 'dist', 'zonectl-host.cache');
    const out = child(`
      const source = map.latin1(${JSON.stringify(js)});
      const cachedData = map.buffer(${JSON.stringify(cache)});
      const script = new vm.Script(source, { filename: ${JSON.stringify(js)}, cachedData });
      console.log(JSON.stringify({ source, cache: cachedData.toString('base64'), rejected: script.cachedDataRejected }));
    `) as { source: string; cache: string; rejected: boolean };
    expect(out.source).toBe(readFileSync(js, 'latin1'));
    expect(out.cache).toBe(readFileSync(cache).toString('base64'));
    expect(out.rejected).toBe(false);
  });

  it('says undefined for a file it cannot map: missing or empty', () => {
    writeFileSync(join(work, 'empty'), '');
    const out = child(`console.log(JSON.stringify([map.latin1(${JSON.stringify(join(work, 'none'))}), map.buffer(${JSON.stringify(join(work, 'empty'))})].map((v) => v === undefined)))`);
    expect(out).toEqual([true, true]);
  });

  it('is not needed: without it, the CLI reads the files', () => {
    const copy = join(work, 'no-addon');
    cpSync(join(repo, 'bin'), join(copy, 'bin'), { recursive: true });
    cpSync(join(repo, 'dist'), join(copy, 'dist'), { recursive: true });
    cpSync(join(repo, 'package.json'), join(copy, 'package.json'));
    const run = (...args: string[]) => execFileSync(process.execPath, [join(copy, 'bin', 'zonectl.cjs'), ...args], { encoding: 'utf8' });
    expect(run('--version').trim()).toBe((JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version);
    expect(run('validate', '-f', join(repo, 'samples', 'webstack'))).toMatch(/valid/);
  });

  it('keeps what it mapped when the file is replaced, as the build replaces it', () => {
    const file = join(work, 'script.js');
    writeFileSync(file, 'first version, long enough not to be copied into a short string of its own. '.repeat(8));
    const out = child(`
      const fs = require('node:fs');
      const before = map.latin1(${JSON.stringify(file)});
      fs.writeFileSync(${JSON.stringify(`${file}.tmp`)}, 'second');
      fs.renameSync(${JSON.stringify(`${file}.tmp`)}, ${JSON.stringify(file)});
      console.log(JSON.stringify([before.slice(0, 13), map.latin1(${JSON.stringify(file)})]));
    `);
    expect(out).toEqual(['first version', 'second']);
  });
});
