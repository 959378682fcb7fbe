// The StateStore's project cleanup: a temporary file left by a writer killed before its
// rename (SIGKILL of up) must not keep the project's records directory alive forever.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { StateStore } from '../../../src/host/state/store.js';

let root = '';
afterEach(() => rmSync(root, { recursive: true, force: true }));

it('removeProject removes the records once only temporary files of killed writers are left', async () => {
  root = mkdtempSync(join(tmpdir(), 'zonectl-store-'));
  const store = new StateStore(root);
  const lan = { name: 'lan', subnet: '10.213.1.0/24', gateway: true, egress: 'none' as const, internal: false };
  await store.writeNetwork('p', lan, new Date(0));
  writeFileSync(join(root, 'p', 'networks', 'lan.json.4242.tmp'), '{"netw');
  expect(await store.networks('p')).toEqual(['lan']);
  await store.removeNetwork('p', 'lan');
  expect(await store.networks('p')).toEqual([]);
  await store.removeProject('p');
  expect(existsSync(join(root, 'p', 'networks'))).toBe(false);
  await store.removeProjectDir('p');
  expect(existsSync(join(root, 'p'))).toBe(false);
});

it('removeProject keeps everything while a record is left', async () => {
  root = mkdtempSync(join(tmpdir(), 'zonectl-store-'));
  const store = new StateStore(root);
  await store.writeNetwork('p', { name: 'lan', subnet: '10.213.1.0/24', gateway: true, egress: 'none', internal: false }, new Date(0));
  await store.removeProject('p');
  expect(await store.networks('p')).toEqual(['lan']);
});
