// Every sample zones file starts with the yaml-language-server comment, and its $schema
// path, taken relative to the sample file as editors do, is the real schema.

import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const samples = join(repo, 'samples');
const schema = realpathSync(join(repo, 'schema/zones.schema.json'));

/** samples/NAME/zones.yaml and every *.yaml / *.yml in samples/NAME/zones/ (the -f DIR layout). */
function sampleFiles(): string[] {
  if (!existsSync(samples)) return [];
  const out: string[] = [];
  for (const name of readdirSync(samples).sort()) {
    const file = join(samples, name, 'zones.yaml');
    if (existsSync(file)) out.push(file);
    const dir = join(samples, name, 'zones');
    if (existsSync(dir)) out.push(...readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f)));
  }
  return out;
}

const files = sampleFiles();

describe('samples', () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files.map((f) => [f.slice(repo.length), f]))('%s points its $schema at schema/zones.schema.json', (_, file) => {
    const first = readFileSync(file, 'utf8').split('\n')[0]!;
    const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    expect(m, `first line: ${first}`).not.toBeNull();
    const target = resolve(dirname(file), m![1]!);
    expect(existsSync(target), `${m![1]} resolves to ${target}, which does not exist`).toBe(true);
    expect(realpathSync(target)).toBe(schema);
  });
});
