// bin/zonectl.cjs run as a command starts with two lines of shell: node starts without
// NODE_EXTRA_CA_CERTS (Node 20 parses that file's certificates at every start, before any
// script runs), and the CLI puts the value back before it reads the environment. A file that
// cannot be read makes node warn at its start, so the warning tells whether node saw the
// variable; `config` shows what the CLI's interpolation saw.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const bin = join(repo, pkg.bin.zonectl!);
const work = mkdtempSync(join(tmpdir(), 'zt-launcher-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// as npm installs it: node_modules/.bin/zonectl, a symlink
const link = join(work, 'zonectl');
symlinkSync(bin, link);
const project = join(work, "a dir; $(false) 'quoted' *");
mkdirSync(project);
writeFileSync(
  join(project, 'zones.yaml'),
  'name: launcher\nzones:\n  z:\n    root: sparse\n    command: ["/bin/true"]\n    env:\n      CA: "${NODE_EXTRA_CA_CERTS-unset}"\n      MOVED: "${ZONECTL_NODE_EXTRA_CA_CERTS-unset}"\n',
);
const WARNING = 'Ignoring extra certs';
const MISSING = join(work, 'no-such-ca.pem');

/** The zone's env as `config` resolves it, and what the run wrote to stderr. */
function run(cmd: string, args: string[], env: Record<string, string | undefined>) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS' && k !== 'ZONECTL_NODE_EXTRA_CA_CERTS'));
  const r = spawnSync(cmd, [...args, 'config', '--json', '-f', project], { env: { ...base, ...env }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const config = JSON.parse(r.stdout) as { zones: { z: { env: Record<string, string> } } };
  return { env: config.zones.z.env, stderr: r.stderr };
}

describe('the zonectl command', () => {
  // the project's path, with a space, quotes, $( ) and *, reaches node as one argument
  it('starts node without NODE_EXTRA_CA_CERTS, and interpolates it as the caller set it', () => {
    const r = run(link, [], { NODE_EXTRA_CA_CERTS: MISSING });
    expect(r.stderr).not.toContain(WARNING);
    expect(r.env).toEqual({ CA: MISSING, MOVED: 'unset' });
  });

  it('keeps an empty value apart from an unset one', () => {
    expect(run(link, [], { NODE_EXTRA_CA_CERTS: '' }).env).toEqual({ CA: '', MOVED: 'unset' });
    expect(run(link, [], {}).env).toEqual({ CA: 'unset', MOVED: 'unset' });
  });

  it('run as `node bin/zonectl.cjs`, leaves node to read the certificates as usual', () => {
    const r = run(process.execPath, [bin], { NODE_EXTRA_CA_CERTS: MISSING });
    expect(r.stderr).toContain(WARNING);
    expect(r.env).toEqual({ CA: MISSING, MOVED: 'unset' });
  });
});
