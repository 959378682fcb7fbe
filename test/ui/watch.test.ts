// The line (and JSON object) printed for each reconcile of `up --watch`.
import { describe, expect, it } from 'vitest';
import type { ReconcileReport } from '../../src/ui/watch.js';
import type { Action } from '../../src/plan/types.js';
import { actionText, watchJson, watchLine } from '../../src/ui/watch.js';

const M = 1024 * 1024;
const at = new Date(2025, 0, 2, 9, 5, 7);
const memoryUpdate = {
  kind: 'update', id: 'zone.web', resource: 'zone', name: 'web', cause: 'limits.memory changed', after_actions: [],
  desired: {}, changes: [{ path: 'limits.memory', before: 128 * M, after: 256 * M, rule: 'in-place' }],
} as unknown as Action;
const commandReplace = {
  kind: 'replace', id: 'zone.api', resource: 'zone', name: 'api', cause: 'command changed', after_actions: [],
  desired: {}, changes: [{ path: 'command', before: ['a'], after: ['b'], rule: 'replace' }], replace_paths: ['command'],
} as unknown as Action;
const deadZone = {
  kind: 'replace', id: 'zone.db', resource: 'zone', name: 'db', cause: 'it exited (code 137)', after_actions: [],
  desired: {}, changes: [], replace_paths: [],
} as unknown as Action;
const bridge = { kind: 'create', id: 'network.lan', resource: 'network', name: 'lan', cause: 'the bridge is missing', after_actions: [], desired: {} } as unknown as Action;

function report(over: Partial<ReconcileReport>): ReconcileReport {
  return { time: at, trigger: 'change', files: ['/srv/zones/10-web.yaml'], status: 'unchanged', applied: [], pending: [], problems: [], errors: [], warnings: [], ms: 0, ...over };
}

describe('actionText', () => {
  it('names the action, the resource and each field before → after in user units', () => {
    expect(actionText(memoryUpdate)).toBe('update zone.web limits.memory=128M→256M');
    expect(actionText(commandReplace)).toBe('replace zone.api command=["a"]→["b"]');
    expect(actionText(deadZone)).toBe('replace zone.db (it exited (code 137))');
    expect(actionText(bridge)).toBe('create network.lan');
    expect(actionText(bridge, true)).toBe('create network.lan (the bridge is missing)');
  });
});

describe('watchLine', () => {
  const cwd = '/srv';
  it('an applied change: the files, the actions, the time from the file event to applied', () => {
    expect(watchLine(report({ status: 'applied', applied: [memoryUpdate], ms: 84 }), { cwd })).toBe('09:05:07 change zones/10-web.yaml: applied update zone.web limits.memory=128M→256M in 84 ms');
  });
  it('a burst names three files and counts the rest', () => {
    const files = Array.from({ length: 10 }, (_, i) => `/srv/zones/${i}.yaml`);
    expect(watchLine(report({ files }), { cwd })).toBe('09:05:07 change zones/0.yaml, zones/1.yaml, zones/2.yaml (+7 more): no changes, the host matches the files');
  });
  it('an invalid edit: nothing changed, the located errors are printed above it', () => {
    const problems = [{ loc: { file: '/srv/zones/10-web.yaml', line: 4, col: 13 }, path: 'zones.web.limits.memory', message: '"12 apples" is not a size' }];
    expect(watchLine(report({ status: 'invalid', problems, ms: 3 }), { cwd })).toBe('09:05:07 change zones/10-web.yaml: invalid (1 error above): nothing changed, the last good state keeps running');
    expect(watchLine(report({ status: 'invalid', errors: ['network.lan: subnet: overlaps a host route'] }), { cwd })).toBe(
      '09:05:07 change zones/10-web.yaml: invalid (1 error): nothing changed, the last good state keeps running; network.lan: subnet: overlaps a host route',
    );
  });
  it('a resync says what drifted, with the cause where the fields do not say it', () => {
    expect(watchLine(report({ trigger: 'resync', files: [], status: 'applied', applied: [memoryUpdate, deadZone, bridge], ms: 40 }))).toBe(
      '09:05:07 resync: drift reverted: update zone.web limits.memory=128M→256M, replace zone.db (it exited (code 137)), create network.lan (the bridge is missing) in 40 ms',
    );
    expect(watchLine(report({ trigger: 'resync', files: [] }))).toBe('09:05:07 resync: no drift');
  });
  it('--hot-only: what was applied and what stays pending', () => {
    expect(watchLine(report({ status: 'applied', applied: [memoryUpdate], pending: [commandReplace], ms: 9 }), { cwd })).toBe(
      '09:05:07 change zones/10-web.yaml: applied update zone.web limits.memory=128M→256M in 9 ms; pending (--hot-only): replace zone.api command=["a"]→["b"]',
    );
    expect(watchLine(report({ status: 'pending', pending: [commandReplace] }), { cwd })).toBe('09:05:07 change zones/10-web.yaml: pending (--hot-only): replace zone.api command=["a"]→["b"]');
  });
  it('a failed apply names the action and the reason, and what was applied anyway', () => {
    expect(watchLine(report({ trigger: 'start', files: [], status: 'failed', applied: [bridge], errors: ['zone.web: start: EBUSY'], warnings: ['deferred: zone.web: limits.memory: reclaiming'], ms: 120 }))).toBe(
      '09:05:07 start: failed (applied create network.lan in 120 ms); error: zone.web: start: EBUSY; warning: deferred: zone.web: limits.memory: reclaiming',
    );
  });
});

describe('watchJson', () => {
  it('one object with the same facts; config errors located as in validate --json (files shown as validate shows them)', () => {
    const problems = [{ loc: { file: '/srv/zones/10-web.yaml', line: 4, col: 13 }, path: 'zones.web.limits.memory', message: '"12 apples" is not a size' }];
    expect(watchJson(report({ status: 'invalid', problems, ms: 3 }), { cwd: '/srv' })).toEqual({
      time: at.toISOString(), trigger: 'change', files: ['zones/10-web.yaml'], status: 'invalid', applied: [], pending: [], ms: 3,
      errors: [{ file: '/srv/zones/10-web.yaml', line: 4, column: 13, path: 'zones.web.limits.memory', message: '"12 apples" is not a size' }],
      warnings: [],
    });
    expect(watchJson(report({ status: 'applied', applied: [memoryUpdate], ms: 84 }), { cwd: '/srv' })).toMatchObject({ status: 'applied', applied: ['update zone.web limits.memory=128M→256M'], ms: 84 });
  });
});
