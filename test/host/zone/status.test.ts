// The zone driver's status, read from a supervisor record against live processes: no root.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { NativeZoneDriver } from '../../../src/host/zone/native.js';
import { ZonePaths } from '../../../src/host/zone/paths.js';
import { processStartTime } from '../../../src/host/zone/record.js';

const dir = mkdtempSync(join(tmpdir(), 'zt-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const driver = new NativeZoneDriver({ paths: new ZonePaths(join(dir, 'run'), join(dir, 'lib')) });

function record(zone: string, pid: number, start: string): void {
  const run = driver.paths.zoneRun('p', zone);
  mkdirSync(run, { recursive: true });
  const fields = { state: 'running', supervisor_pid: pid, supervisor_start: start, init_pid: pid, init_start: start, started_at: 1, exit_code: -1, restarts: 0 };
  writeFileSync(driver.paths.record('p', zone), Object.entries(fields).map(([k, v]) => `${k}=${v}\n`).join(''));
}

describe('zone status', () => {
  it('never names the host\'s network namespace as a zone\'s: a supervisor in it has none', async () => {
    // this process stands for a supervisor from before supervisors lived in their zone's namespace
    record('old', process.pid, (await processStartTime(process.pid))!);
    expect(await driver.status('p', 'old')).toMatchObject({ state: 'running', pid: process.pid, netns: null });
  });

  it('a record whose supervisor is gone (a pid reused: another start time) is an exited zone, with no namespace', async () => {
    record('gone', process.pid, '1');
    expect(await driver.status('p', 'gone')).toEqual({ state: 'exited', exitCode: null, restarts: 0, error: null });
  });
});
