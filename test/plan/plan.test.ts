import { describe, expect, it } from 'vitest';
import { ZONE_FIELDS } from '../../src/model/fields.js';
import { plan, usesNftables } from '../../src/plan/plan.js';
import { compactPlan, renderPlan } from '../../src/plan/render.js';
import { HOST, converged, desiredFrom } from '../helpers/state.js';

const BASE = `
name: shop
networks:
  front: { subnet: 10.213.1.0/24, gateway: true }
  back: { subnet: 10.213.2.0/24 }
zones:
  web:
    command: ["node", "/srv/web.js"]
    limits: { cpus: 0.5, memory: 128M }
    networks:
      front: { address: 10.213.1.10 }
    depends_on: [api]
  api:
    command: /bin/api
    networks: [front, back]
`;

const empty = (project = 'shop') => ({ project, global: null, networks: {}, zones: {}, host: HOST });

describe('plan', () => {
  it('creates everything on an empty host, in dependency order', () => {
    const p = plan(desiredFrom(BASE), empty());
    expect(compactPlan(p)).toBe(
      [
        'create global',
        'create network.back',
        'create network.front',
        'create zone.api after global,network.back,network.front',
        'create zone.web after global,network.front,zone.api',
      ].join('\n'),
    );
  });

  it('plans nothing on a converged host', () => {
    const d = desiredFrom(BASE);
    const p = plan(d, converged(d));
    expect(p.actions).toEqual([]);
    expect(renderPlan(p)).toBe('No changes. The host matches the files.\n');
  });

  it('assigns free addresses deterministically, skipping static ones and the gateway', () => {
    const d = desiredFrom(BASE);
    const create = plan(d, empty()).actions.find((a) => a.id === 'zone.api');
    expect(create?.kind === 'create' && (create.desired as { networks: Record<string, { address: string }> }).networks).toMatchObject({
      front: { address: '10.213.1.2' },
      back: { address: '10.213.2.1' },
    });
  });

  it('leaves the desired state as it was: addresses and MACs are filled in on copies', () => {
    const d = desiredFrom(BASE);
    const before = structuredClone(d);
    const p = plan(d, empty());
    expect(d).toEqual(before);
    expect(d.zones.api!.networks.back!.address).toBeNull();
    expect(p.zones.api!.networks.back!.address).toBe('10.213.2.1');
    expect(p.zones.api!.networks.back!.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  });

  it('keeps the address a zone already has', () => {
    const d = desiredFrom(BASE);
    const actual = converged(d);
    actual.zones.api!.networks.back!.address = '10.213.2.77';
    actual.zones.api!.applied!.networks.back!.address = '10.213.2.77';
    expect(plan(d, actual).actions).toEqual([]);
  });

  it('updates a limit in place, with before and after', () => {
    const d = desiredFrom(BASE);
    const actual = converged(d);
    const d2 = desiredFrom(BASE.replace('memory: 128M', 'memory: 256M'));
    expect(compactPlan(plan(d2, actual))).toBe('update zone.web limits.memory=128M→256M');
  });

  it('reverts drift of a limit changed by hand (read back from the kernel)', () => {
    const d = desiredFrom(BASE);
    const actual = converged(d);
    actual.zones.web!.limits!.pids = 10;
    expect(compactPlan(plan(d, actual))).toBe('update zone.web limits.pids=10→max');
  });

  it('replaces a zone when a replace-field changes, naming it', () => {
    const d = desiredFrom(BASE);
    const d2 = desiredFrom(BASE.replace('command: /bin/api', 'command: /bin/api2'));
    const p = plan(d2, converged(d));
    expect(compactPlan(p)).toBe('replace zone.api command=["/bin/sh","-c","/bin/api"]→["/bin/sh","-c","/bin/api2"]');
    expect(p.actions[0]).toMatchObject({ kind: 'replace', replace_paths: ['command'] });
    expect(renderPlan(p)).toContain('-/+ zone api');
    expect(renderPlan(p)).toContain('# forces replacement');
    expect(renderPlan(p)).toContain('Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy.');
  });

  it('replaces a zone that exited', () => {
    const d = desiredFrom(BASE);
    const actual = converged(d);
    actual.zones.api!.state = 'exited';
    actual.zones.api!.exit_code = 3;
    expect(compactPlan(plan(d, actual))).toBe('replace zone.api (it exited (code 3))');
  });

  it('replaces a running zone whose cgroup is gone (it runs unconfined)', () => {
    const d = desiredFrom(BASE);
    const actual = converged(d);
    actual.zones.api!.limits = null;
    const p = plan(d, actual);
    expect(p.actions.map((a) => `${a.kind} ${a.id}: ${a.cause}`)).toEqual(['replace zone.api: its cgroup is missing']);
  });

  it('hot-plugs a network attachment', () => {
    const d = desiredFrom(BASE);
    const d2 = desiredFrom(BASE.replace('front: { address: 10.213.1.10 }', 'front: { address: 10.213.1.10 }\n      back: {}'));
    const p = plan(d2, converged(d));
    expect(p.actions.map((a) => `${a.kind} ${a.id}`)).toEqual(['update zone.web']);
    expect(p.actions[0]).toMatchObject({ changes: [{ path: 'networks.back', before: null, rule: 'in-place' }] });
  });

  it('prunes zones and networks no longer declared, dependents first, networks after zones', () => {
    const d = desiredFrom(BASE);
    const only = desiredFrom(`
name: shop
networks:
  front: { subnet: 10.213.1.0/24, gateway: true }
zones:
  solo:
    networks: [front]
`);
    expect(compactPlan(plan(only, converged(d)))).toBe(
      [
        'delete zone.web',
        'delete zone.api after zone.web',
        'delete network.back after zone.api,zone.web',
        'create zone.solo after zone.api,zone.web',
      ].join('\n'),
    );
    expect(plan(only, converged(d), { prune: false }).actions.map((a) => a.id)).toEqual(['zone.solo']);
  });

  it('keeps the project (and so its bridges) while networks are declared without zones', () => {
    const d = desiredFrom(BASE);
    const onlyNetworks = { ...d, zones: {} };
    expect(compactPlan(plan(onlyNetworks, converged(d)))).toBe('delete zone.web\ndelete zone.api after zone.web');
  });

  it('down: an empty desired state deletes everything, the project last', () => {
    const d = desiredFrom(BASE);
    const none = desiredFrom('name: shop\n');
    expect(compactPlan(plan(none, converged(d)))).toBe(
      [
        'delete zone.web',
        'delete zone.api after zone.web',
        'delete network.back after zone.api,zone.web',
        'delete network.front after zone.api,zone.web',
        'delete global after network.back,network.front,zone.api,zone.web',
      ].join('\n'),
    );
  });

  it('orders every action as the smallest order by kind, then id, that runs each after what it waits for (600 zones)', () => {
    // zone i depends on a few zones below it: a deep DAG; half of the zones are new, half pruned
    const n = 600;
    let y = 'name: shop\nnetworks:\n  front: { subnet: 10.213.0.0/20 }\n  back: { subnet: 10.213.16.0/20 }\nzones:\n';
    for (let i = 0; i < n; i++) {
      const deps = [i - 1, Math.floor(i / 2), (i * 7) % Math.max(1, i)].filter((d, k, all) => d >= 0 && d < i && all.indexOf(d) === k);
      y += `  z${String(i).padStart(3, '0')}:\n    networks: [${i % 3 === 0 ? 'front, back' : 'back'}]\n    depends_on: [${deps.map((d) => `z${String(d).padStart(3, '0')}`).join(', ')}]\n`;
    }
    const all = desiredFrom(y);
    const half = { ...all, zones: Object.fromEntries(Object.entries(all.zones).filter(([name]) => Number(name.slice(1)) % 2 === 0)) };
    for (const p of [plan(all, empty()), plan(half, converged(all)), plan(desiredFrom('name: shop\n'), converged(all))]) {
      // the reference: at each step, of the actions whose dependencies are placed, the first by kind, then id
      const rank = { global: 0, network: 1, zone: 2 };
      const left = new Map(p.actions.map((a) => [a.id, a]));
      const want: string[] = [];
      while (left.size > 0) {
        const ready = [...left.values()].filter((a) => a.after_actions.every((d) => !left.has(d)));
        ready.sort((a, b) => rank[a.resource] - rank[b.resource] || (a.id < b.id ? -1 : 1));
        want.push(ready[0]!.id);
        left.delete(ready[0]!.id);
      }
      expect(p.actions.map((a) => a.id)).toEqual(want);
      expect(p.actions.length).toBeGreaterThanOrEqual(n / 2);
    }
  });

  it('reports a cpuset the host lacks and a subnet over a host route', () => {
    const d = desiredFrom(`
name: shop
networks:
  lan: { subnet: 172.16.0.0/16 }
zones:
  a:
    limits: { cpuset: "0-3" }
`);
    expect(plan(d, empty()).diagnostics.map((x) => `${x.severity} ${x.id}: ${x.message}`)).toEqual([
      "error network.lan: subnet 172.16.0.0/16 overlaps the host's route to 172.16.0.0/24",
      'error zone.a: cpuset 0-3 names CPU 2-3, which this host does not have (online: 0-1)',
    ]);
  });

  it('warns when a memory cap falls below current usage', () => {
    const d = desiredFrom(BASE);
    const actual = converged(d);
    actual.zones.web!.memory_current = 200 << 20;
    const p = plan(desiredFrom(BASE.replace('memory: 128M', 'memory: 100M')), actual);
    expect(p.diagnostics).toMatchObject([{ severity: 'warning', id: 'zone.web', path: 'limits.memory' }]);
  });

  // Every field of the hot/cold table: changing it gives update (in place) or replace.
  const EDITS: Record<keyof typeof ZONE_FIELDS, [string, string] | null> = {
    hostname: ['command: /bin/api', 'command: /bin/api\n    hostname: api1'],
    root: ['command: /bin/api', 'command: /bin/api\n    root: { path: /srv/rootfs }'],
    read_only: ['command: /bin/api', 'command: /bin/api\n    read_only: true'],
    command: ['command: /bin/api', 'command: [/bin/api]'],
    workdir: ['command: /bin/api', 'command: /bin/api\n    workdir: /srv'],
    env: ['command: /bin/api', 'command: /bin/api\n    env: { A: "1" }'],
    user: ['command: /bin/api', 'command: /bin/api\n    user: "1000"'],
    mounts: ['command: /bin/api', 'command: /bin/api\n    mounts: [{ type: tmpfs, target: /cache }]'],
    limits: ['command: /bin/api', 'command: /bin/api\n    limits: { pids: 10 }'],
    networks: ['networks: [front, back]', 'networks: [front]'],
    depends_on: null,
    restart: ['command: /bin/api', 'command: /bin/api\n    restart: always'],
    ports: ['command: /bin/api', 'command: /bin/api\n    ports: ["8080:80"]'],
    stop_grace_period: ['command: /bin/api', 'command: /bin/api\n    stop_grace_period: 3s'],
    privileges: ['command: /bin/api', 'command: /bin/api\n    privileges: { seccomp: unconfined }'],
  };
  for (const [field, rule] of Object.entries(ZONE_FIELDS)) {
    const edit = EDITS[field as keyof typeof ZONE_FIELDS];
    if (!edit) continue;
    it(`${field}: a change is ${rule === 'replace' ? 'a replace' : 'an in-place update'}`, () => {
      const d = desiredFrom(BASE);
      const p = plan(desiredFrom(BASE.replace(edit[0], edit[1])), converged(d));
      expect(p.actions.map((a) => `${a.kind} ${a.id}`)).toEqual([`${rule === 'replace' ? 'replace' : 'update'} zone.api`]);
      expect(p.actions[0]!.kind === 'create' || p.actions[0]!.kind === 'delete' ? [] : p.actions[0]!.changes.map((c) => c.path.split('.')[0])).toContain(field);
    });
  }

  it('depends_on changes only the order, never the zone', () => {
    const d = desiredFrom(BASE);
    expect(plan(desiredFrom(BASE.replace('    depends_on: [api]\n', '')), converged(d)).actions).toEqual([]);
  });
});

describe('plan JSON', () => {
  it('matches schema/plan.schema.json for every kind of action', async () => {
    const { default: Ajv } = await import('ajv');
    const { readFileSync } = await import('node:fs');
    const { planJson } = await import('../../src/plan/render.js');
    const schema = JSON.parse(readFileSync(new URL('../../schema/plan.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, strict: true }).compile(schema);
    const d = desiredFrom(BASE);
    const d2 = desiredFrom(BASE.replace('memory: 128M', 'memory: 256M').replace('command: /bin/api', 'command: /bin/api2').replace('back: { subnet: 10.213.2.0/24 }', 'side: { subnet: 10.213.3.0/24 }').replace('networks: [front, back]', 'networks: [front]'));
    for (const p of [plan(d, empty()), plan(d2, converged(d)), plan(desiredFrom('name: shop\n'), converged(d))]) {
      const json = planJson(p, { global: ['write 1 to /x'] });
      expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    }
    const mixed = planJson(plan(d2, converged(d))) as { summary: object; actions: { kind: string; changes?: { path: string; before: unknown; after: unknown; applied: string }[] }[] };
    expect(mixed.summary).toEqual({ add: 1, change: 1, replace: 1, destroy: 1 });
    expect(mixed.actions.flatMap((a) => a.changes ?? []).find((c) => c.path === 'limits.memory')).toEqual({ path: 'limits.memory', before: 134217728, after: 268435456, applied: 'in-place' });
  });
});

describe('plan on a host without nft', () => {
  it('refuses gateways, egress NAT and published ports before anything is applied, naming the package', () => {
    const d = desiredFrom(`
name: shop
networks:
  front: { subnet: 10.213.1.0/24, gateway: true, egress: nat }
  back: { subnet: 10.213.2.0/24 }
  mid: { subnet: 10.213.3.0/24, gateway: true }
zones:
  web:
    networks: [front]
    ports: ["8080:80"]
  api:
    networks: [back, mid]
`);
    const noNft = { ...empty(), host: { ...HOST, nft: false } };
    expect(plan(d, noNft).diagnostics.map((x) => `${x.severity} ${x.id} ${x.path}: ${x.message}`)).toEqual([
      'error network.front egress: egress: nat needs nftables (libnftables), which this host lacks (install the Debian package nftables)',
      'error network.mid gateway: a gateway needs nftables (libnftables), which this host lacks (install the Debian package nftables), to keep the segment apart from the others the host routes for',
      'error zone.web ports: published ports need nftables (libnftables), which this host lacks (install the Debian package nftables)',
    ]);
    expect(usesNftables(d)).toBe(true);
    // Segments without a gateway need only the kernel: such a project plans fine, and is not even asked about nft.
    const plain = desiredFrom(BASE.replace('gateway: true', 'gateway: false'));
    expect(usesNftables(plain)).toBe(false);
    expect(plan(plain, noNft).diagnostics).toEqual([]);
    expect(plan(plain, { ...empty(), host: { ...HOST, nft: null } }).diagnostics).toEqual([]);
  });
});
