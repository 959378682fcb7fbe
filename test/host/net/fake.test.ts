// The fake network driver: what reconcile tests rely on — observe() reads back what was
// applied, calls are recorded in order, failures can be injected.
import { describe, expect, it } from 'vitest';
import { FakeNetDriver } from '../../../src/host/net/fake.js';
import type { Network } from '../../../src/model/types.js';

const front: Network = { name: 'front', subnet: '10.213.1.0/24', gateway: true, egress: 'none', internal: false };
const back: Network = { name: 'back', subnet: '10.213.2.0/24', gateway: false, egress: 'none', internal: false };
const att = (address: string, ingress: number | null = null) => ({ address, mac: '02:00:00:00:00:01', bandwidth: { ingress, egress: null } });

describe('FakeNetDriver', () => {
  it('reads back networks and attachments, with rates as the kernel keeps them', async () => {
    const d = new FakeNetDriver();
    await d.ensureNetwork('p', front);
    await d.ensureNetwork('p', back);
    await d.convergeZone('p', 'web', '/ns/web', { front: { network: front, attachment: att('10.213.1.10', 1001) }, back: { network: back, attachment: att('10.213.2.10') } });
    const seen = await d.observe('p', { web: '/ns/web' });
    expect(seen.networks.front?.gateway).toBe('10.213.1.1/24');
    expect(seen.networks.back?.gateway).toBeNull();
    expect(seen.zones.web?.front).toEqual({ address: '10.213.1.10', mac: '02:00:00:00:00:01', bandwidth: { ingress: 1000, egress: null } });
    expect(d.defaultRoute('p', 'web')).toBe('10.213.1.1');
    expect(d.calls.map((c) => c.call)).toEqual(['ensureNetwork', 'ensureNetwork', 'convergeZone', 'attach', 'attach']);
    expect(d.calls.filter((c) => c.call === 'attach').map((c) => c.call === 'attach' && [c.network, c.defaultRoute])).toEqual([['back', false], ['front', true]]);
  });

  it('detaches what a zone no longer wants and drops the default route with its last gateway network', async () => {
    const d = new FakeNetDriver();
    await d.ensureNetwork('p', front);
    await d.ensureNetwork('p', back);
    await d.convergeZone('p', 'api', '/ns/api', { front: { network: front, attachment: att('10.213.1.11') }, back: { network: back, attachment: att('10.213.2.11') } });
    await d.convergeZone('p', 'api', '/ns/api', { back: { network: back, attachment: att('10.213.2.11') } });
    expect(Object.keys((await d.observe('p', { api: '/ns/api' })).zones.api ?? {})).toEqual(['back']);
    expect(d.defaultRoute('p', 'api')).toBeNull();
    expect(d.calls.some((c) => c.call === 'detach' && c.network === 'front')).toBe(true);
  });

  it('refuses to attach to a network it does not have, reports orphans, injects failures', async () => {
    const d = new FakeNetDriver();
    await expect(d.attach('p', 'web', '/ns/web', front, att('10.213.1.10'), { defaultRoute: true })).rejects.toMatchObject({ code: 'ENODEV' });
    await d.ensureNetwork('p', front);
    await d.attach('p', 'web', '/ns/web', front, att('10.213.1.10'), { defaultRoute: true });
    expect((await d.observe('p', {})).orphans).toEqual([{ zone: 'web', network: 'front', ifname: expect.stringMatching(/^znv[0-9a-f]{10}$/) }]);
    d.failNext = { call: 'setBandwidth', code: 'EBUSY' };
    await expect(d.setBandwidth('p', 'web', '/ns/web', 'front', { ingress: 8, egress: null })).rejects.toMatchObject({ code: 'EBUSY' });
    await d.setBandwidth('p', 'web', '/ns/web', 'front', { ingress: 8, egress: null });
    await d.removeProject('p');
    expect(await d.observe('p', { web: '/ns/web' })).toEqual({ networks: {}, zones: {}, orphans: [] });
  });
});
