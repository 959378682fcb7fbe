// HelperServer (src/host/zone/serve.ts) against a fake of the helper's `serve` written in sh,
// and the real helper's `serve` protocol on bad input. No root needed.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { ProgramRun } from '../../../src/host/run.js';
import { HelperServer } from '../../../src/host/zone/serve.js';
import { HELPER_PATH } from '../../../src/native/index.js';

let dir: string;
let fake: string;

// The protocol of native/helper/main.c: answers "ID ok PID MS" (its own pid: which process
// answered), at once or, for GO 1, on "go ID"; "cancel ID" answers an error. A spec named
// `crash` makes it exit without answering; every serve it runs is recorded in `starts`.
const FAKE = `#!/bin/sh
echo $$ >> "$(dirname "$0")/starts"
tab=$(printf '\\t')
while IFS="$tab" read -r op id spec ns go; do
  case "$op" in
    start)
      [ "$spec" = crash ] && exit 3
      [ "$go" = 1 ] || echo "$id ok $$ $ns" ;;
    go) echo "$id ok $$ go" ;;
    cancel) echo "$id error 125 start\${tab}called off" ;;
  esac
done
`;

const servesRun = (): number => readFileSync(join(dir, 'starts'), 'utf8').split('\n').filter(Boolean).length;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'zt-serve-'));
  fake = join(dir, 'helper');
  writeFileSync(fake, FAKE);
  chmodSync(fake, 0o755);
  writeFileSync(join(dir, 'starts'), '');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A start through its own reservation, released once answered (as the zone driver does). */
function start(server: HelperServer, spec: string, netns: string, go: boolean): ProgramRun {
  const r = server.reserve();
  const run = r.start(spec, netns, go);
  void run.done.finally(() => r.release()).catch(() => {});
  return run;
}

const alive = (pid: string): boolean => existsSync(`/proc/${pid}`);
const lastServe = (): string => readFileSync(join(dir, 'starts'), 'utf8').trim().split('\n').pop() ?? '';

describe('HelperServer', () => {
  it('answers starts made together from one serve process, then lets it go: the next start runs another', async () => {
    const server = new HelperServer(fake);
    const before = servesRun();
    const [a, b] = await Promise.all([start(server, '/a', '/proc/1/fd/3', false).done, start(server, '/b', '/proc/1/fd/4', false).done]);
    expect(a).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ok \d+ \/proc\/1\/fd\/3\n$/) });
    const pid = a.stdout.split(' ')[1] ?? '';
    expect(b.stdout).toBe(`ok ${pid} /proc/1/fd/4\n`);
    expect(servesRun() - before).toBe(1);
    await expect.poll(() => alive(pid)).toBe(false); // let go: it read EOF and exited
    const c = await start(server, '/c', '/proc/1/fd/5', false).done;
    expect(c.stdout).not.toContain(` ${pid} `);
    expect(servesRun() - before).toBe(2);
  });

  it('starts the process at reserve(), and lets it go at the last release() even when nothing was started', async () => {
    const server = new HelperServer(fake);
    const before = servesRun();
    const [r1, r2] = [server.reserve(), server.reserve()];
    await expect.poll(servesRun).toBe(before + 1);
    const pid = lastServe();
    r1.release();
    r1.release(); // once only
    await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(true); // r2 still holds it
    r2.release();
    await expect.poll(() => alive(pid)).toBe(false);
  });

  it('holds a start with go until send(), and answers a close() as the helper does', async () => {
    const server = new HelperServer(fake);
    const held = start(server, '/a', '/n', true);
    const called = start(server, '/b', '/n', true);
    let answered = false;
    void held.done.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    called.close();
    expect(await called.done).toEqual({ code: 1, stdout: 'error 125 start\tcalled off\n', stderr: '' });
    held.send('g');
    held.send('g'); // once only
    expect((await held.done).stdout).toMatch(/^ok \d+ go\n$/);
  });

  it('fails the starts still waiting when the serve process exits without their answers, and those made on it later', async () => {
    const server = new HelperServer(fake);
    const later = server.reserve();
    const waiting = start(server, '/a', '/n', true);
    const crash = start(server, 'crash', '/n', false);
    const failed = { code: 3, stdout: '', stderr: "the helper's serve exited (3) before its answer" };
    for (const run of [waiting, crash]) expect(await run.done).toEqual(failed);
    expect(await later.start('/b', '/n', false).done).toEqual(failed);
    later.release();
    expect((await start(server, '/c', '/n', false).done).code).toBe(0); // on a new one
  });

  it('rejects the starts when the helper cannot run', async () => {
    const server = new HelperServer(join(dir, 'missing'));
    await expect(start(server, '/a', '/n', false).done).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe("the helper's serve", () => {
  const serve = (input: string) => spawnSync(HELPER_PATH, ['serve'], { encoding: 'utf8', input });

  it('outlives a reader that is gone (EPIPE, not SIGPIPE), and exits at EOF once its starts have', async () => {
    const child = spawn(HELPER_PATH, ['serve'], { stdio: ['pipe', 'pipe', 'ignore'] });
    child.stdout.destroy(); // zonectl gone: every answer meets a pipe without a reader
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    child.stdin.end('start\t1\t/nonexistent/a\t/n\t0\n');
    expect(await exited).toEqual([0, null]);
  });

  it('answers each start by its id, a bad one included, ignores a bad request, and exits at EOF', () => {
    const r = serve(['start\t1\t/nonexistent/a\t/n\t0', 'start\t2\t/nonexistent/b\t/n\t2', 'bogus', 'start\t3\t/nonexistent/c\t/n\t1', ''].join('\n'));
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').sort()).toEqual([
      '',
      '1 error 2 open\t/nonexistent/a',
      '2 error 22 serve\ta bad or repeated start request',
      '3 error 2 open\t/nonexistent/c',
    ]);
    expect(r.stderr).toBe('zonectl-helper serve: a bad request ignored: bogus\n');
  });
});
