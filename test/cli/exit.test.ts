// The CLI ends once its output is out (bin/zonectl.cjs: through the addon's exitNow after a
// command that touched the host, process.exit otherwise): output still queued for a pipe must
// not be cut. A `ps --json` of 1,000 zones was (~220 kB); `config --json` of a project that size
// is ~800 kB, through a pipe, and no root is needed.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const bin = join(repo, pkg.bin.zonectl!);
const work = mkdtempSync(join(tmpdir(), 'zt-exit-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the CLI exit', () => {
  it('delivers the whole of a large output through a pipe read slowly', async () => {
    const zones = Array.from({ length: 1000 }, (_, i) => `  z${i}:\n    root: sparse\n    command: ["/bin/sleep", "infinity"]\n`).join('');
    writeFileSync(join(work, 'zones.yaml'), `name: big\nzones:\n${zones}`);
    const child = spawn(process.execPath, [bin, 'config', '--json', '-f', work], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    // a reader slower than the writer: the pipe fills, and the CLI is done before it drains
    child.stdout.pause();
    setTimeout(() => child.stdout.resume(), 300);
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const config = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { zones: Record<string, unknown> };
    expect(Object.keys(config.zones)).toHaveLength(1000);
  });
});
