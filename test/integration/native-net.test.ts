// The addon's rtnetlink half: the anti-spoofing program's encoding (no privileges), and each
// request against the real kernel inside throwaway network namespaces (root).
import { execFileSync } from 'node:child_process';
import { closeSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { antispoofProgram, IFF_UP, netExec, netnsMake, netSnapshot, type LinkInfo, type QdiscInfo } from '../../src/native/net.js';
import { SysError } from '../../src/native/index.js';
import { describeRoot } from '../helpers/root.js';
import { killAllThrowaway, throwawayNetns } from '../host/net/throwaway-netns.js';

const BPF_JMP = 0x05;
const BPF_JMP32 = 0x06;
const BPF_EXIT = 0x90;

describe('anti-spoofing program', () => {
  const prog = antispoofProgram('02:aa:bb:cc:dd:ee', '10.213.7.10', null);

  it('starts by keeping the context in r6 for the packet loads, and ends in exits', () => {
    expect(prog[0]).toEqual([0xbf, 0x16, 0, 0]); // mov64 r6, r1
    const exits = prog.filter(([code]) => code === (BPF_JMP | BPF_EXIT));
    expect(exits).toHaveLength(2);
    expect(prog.at(-1)![0]).toBe(BPF_JMP | BPF_EXIT);
  });

  it('compares the source MAC and IPv4 address with 32-bit jumps in network order', () => {
    const imms = prog.filter(([code]) => (code! & 0x07) === BPF_JMP32).map(([, , , imm]) => imm! >>> 0);
    expect(imms).toContain(0x02aa);
    expect(imms).toContain(0xbbccddee);
    expect(imms).toContain((10 << 24 | 213 << 16 | 7 << 8 | 10) >>> 0);
    expect(imms).toContain(0x0800);
    expect(imms).toContain(0x0806);
  });

  it('has every jump land inside the program', () => {
    prog.forEach(([code, , off], i) => {
      const cls = code! & 0x07;
      if ((cls === BPF_JMP || cls === BPF_JMP32) && (code! & 0xf0) !== BPF_EXIT) {
        const target = i + 1 + off!;
        expect(target).toBeGreaterThan(i);
        expect(target).toBeLessThan(prog.length);
      }
    });
  });

  it('confined to a subnet, also checks the destination', () => {
    const confined = antispoofProgram('02:aa:bb:cc:dd:ee', '10.213.7.10', { subnet: '10.213.7.0', prefix: 24 });
    expect(confined.length).toBeGreaterThan(prog.length);
    const imms = confined.map(([, , , imm]) => imm! >>> 0);
    expect(imms).toContain(0xffffff00); // the mask
    expect(imms).toContain((10 << 24 | 213 << 16 | 7 << 8) >>> 0);
  });
});

describeRoot('rtnetlink requests (root, throwaway namespaces)', () => {
  afterEach(() => killAllThrowaway());

  const byName = (links: LinkInfo[], name: string): LinkInfo => {
    const l = links.find((x) => x.name === name);
    if (!l) throw new Error(`no link ${name}`);
    return l;
  };

  it('creates a bridge and a veth whose peer is born in another namespace with its MAC', async () => {
    const a = await throwawayNetns();
    const b = await throwawayNetns();
    await netExec(a.path, [
      { op: 'link_add_bridge', name: 'zntestbr' },
      { op: 'link_add_veth', name: 'zntestv', peer: 'front', peerNetns: b.path, peerMac: '02:00:00:00:00:42' },
      { op: 'link_set_master', name: 'zntestv', master: 'zntestbr' },
      { op: 'link_set_alias', name: 'zntestbr', alias: 'zonectl/p/front' },
      { op: 'link_set_up', name: 'zntestv' },
      { op: 'link_set_up', name: 'zntestbr' },
      { op: 'addr_add', name: 'zntestbr', address: '10.213.250.1', prefix: 24 },
    ]);
    await netExec(b.path, [
      { op: 'addr_add', name: 'front', address: '10.213.250.2', prefix: 24 },
      { op: 'link_set_up', name: 'front' },
      { op: 'route_replace_default', name: 'front', gateway: '10.213.250.1' },
    ]);
    const sa = await netSnapshot(a.path);
    const br = byName(sa.links, 'zntestbr');
    expect(br.kind).toBe('bridge');
    expect(br.alias).toBe('zonectl/p/front');
    const v = byName(sa.links, 'zntestv');
    expect(v.kind).toBe('veth');
    expect(v.master).toBe(br.index);
    expect(v.linkNetnsid).toBeGreaterThanOrEqual(0); // the peer lives elsewhere
    expect(sa.addrs).toContainEqual({ index: br.index, address: '10.213.250.1', prefix: 24 });

    const sb = await netSnapshot(b.path, { routes: true });
    const front = byName(sb.links, 'front');
    expect(front.mac).toBe('02:00:00:00:00:42');
    expect(front.index).toBe(v.link);
    expect(sb.routes.find((r) => r.prefix === 0 && r.table === 254)).toMatchObject({ gateway: '10.213.250.1', oif: front.index });
    // Forwarding inside a fresh namespace is off.
    expect(await netExec(b.path, [{ op: 'sysctl', path: '/proc/sys/net/ipv4/ip_forward' }])).toEqual(['0']);
    // Both ends made with one queue each way (as many as there are possible CPUs otherwise,
    // then cut to one: an expedited RCU grace period under rtnl_lock per end)
    for (const [ns, name] of [[a.path, 'zntestv'], [b.path, 'front']] as const) {
      expect(execFileSync('nsenter', [`--net=${ns}`, 'ip', '-d', '-o', 'link', 'show', name], { encoding: 'utf8' })).toMatch(/ numtxqueues 1 numrxqueues 1 /);
    }
  });

  it('moves a batch between namespaces with enter (null: back into its first one), on a thread of its own', async () => {
    const a = await throwawayNetns();
    const b = await throwawayNetns();
    const out = await netExec(a.path, [
      { op: 'link_add_veth', name: 'zntestv', peer: 'zntestp', peerNetns: b.path },
      { op: 'enter', netns: b.path },
      { op: 'addr_add', name: 'zntestp', address: '10.213.251.2', prefix: 24 },
      { op: 'link_set_up', name: 'zntestp' },
      { op: 'enter', netns: null },
      { op: 'link_set_up', name: 'zntestv' },
    ]);
    expect(out).toEqual([null, null, null, null, null, null]);
    const [sa, sb] = [await netSnapshot(a.path), await netSnapshot(b.path)];
    expect(byName(sa.links, 'zntestv').flags & IFF_UP).toBe(IFF_UP);
    const p = byName(sb.links, 'zntestp');
    expect(p.flags & IFF_UP).toBe(IFF_UP);
    expect(sb.addrs).toContainEqual({ index: p.index, address: '10.213.251.2', prefix: 24 });
    // a failure after an enter is that namespace's object's
    await expect(netExec(a.path, [{ op: 'enter', netns: b.path }, { op: 'link_set_up', name: 'zntestv' }])).rejects.toMatchObject({ code: 'ENODEV', ifname: 'zntestv' });
    // from the host too: no pool thread is left in another namespace
    await netExec(null, [{ op: 'enter', netns: b.path }, { op: 'link_dump' }]);
    for (let i = 0; i < 8; i++) {
      const links = (await netExec(null, [{ op: 'link_dump' }]))[0] as LinkInfo[];
      expect(links.map((l) => l.name)).not.toContain('zntestp');
    }
  });

  it('names the object and the kernel code on failure, and tolerates what it is told to', async () => {
    const a = await throwawayNetns();
    await netExec(a.path, [{ op: 'link_add_bridge', name: 'zntestbr' }]);
    const err = await netExec(a.path, [{ op: 'link_add_bridge', name: 'zntestbr' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SysError);
    expect(err).toMatchObject({ code: 'EEXIST', ifname: 'zntestbr', message: expect.stringMatching(/^create bridge zntestbr: EEXIST/) });
    const missing = await netExec(a.path, [{ op: 'link_del', name: 'zntestnone' }]).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'ENODEV', ifname: 'zntestnone' });
    expect(await netExec(a.path, [{ op: 'link_del', name: 'zntestnone', tolerate: ['ENODEV'] }])).toEqual(['skipped']);
  });

  it('replaces a tbf qdisc in place and reads its rate back', async () => {
    const a = await throwawayNetns();
    await netExec(a.path, [{ op: 'link_add_veth', name: 'zntestv', peer: 'zntestp' }]);
    const tbf = async (): Promise<QdiscInfo | undefined> => {
      const { links, qdiscs } = await netSnapshot(a.path, { qdiscs: true });
      return qdiscs.find((q) => q.index === byName(links, 'zntestv').index && q.kind === 'tbf');
    };
    await netExec(a.path, [{ op: 'qdisc_replace_tbf', name: 'zntestv', rate: 125_000, burst: 5000, limit: 20_000 }]);
    expect(await tbf()).toMatchObject({ rate: 125_000, limit: 20_000 });
    await netExec(a.path, [{ op: 'qdisc_replace_tbf', name: 'zntestv', rate: 250_000, burst: 5000, limit: 20_000 }]);
    expect((await tbf())?.rate).toBe(250_000);
    await netExec(a.path, [{ op: 'qdisc_del_root', name: 'zntestv' }]);
    expect(await tbf()).toBeUndefined();
  });

  it('attaches the anti-spoofing filter (clsact twice is fine)', async () => {
    const a = await throwawayNetns();
    await netExec(a.path, [
      { op: 'link_add_veth', name: 'zntestv', peer: 'zntestp' },
      { op: 'qdisc_add_clsact', name: 'zntestv' },
      { op: 'qdisc_add_clsact', name: 'zntestv' },
      { op: 'filter_replace_antispoof', name: 'zntestv', mac: '02:00:00:00:00:42', address: '10.213.250.2', confine: true, subnet: '10.213.250.0', prefix: 24 },
      { op: 'filter_replace_antispoof', name: 'zntestv', mac: '02:00:00:00:00:42', address: '10.213.250.3', confine: false },
    ]);
    const { qdiscs } = await netSnapshot(a.path, { qdiscs: true });
    expect(qdiscs.some((q) => q.kind === 'clsact')).toBe(true);
  });
});

describeRoot('network namespaces for zones (root)', () => {
  const nsInode = (link: string): number => Number(/^net:\[(\d+)\]$/.exec(link)?.[1]);

  it('makes a new namespace (lo up, ping_group_range open) held by a descriptor, that no thread of this process is in', async () => {
    const host = nsInode(readlinkSync('/proc/self/ns/net'));
    const hostPing = readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8');
    const fd = await netnsMake();
    try {
      const path = `/proc/self/fd/${fd}`;
      const made = nsInode(readlinkSync(path));
      expect(made).toBeGreaterThan(0);
      expect(made).not.toBe(host);
      for (const t of readdirSync('/proc/self/task')) expect(nsInode(readlinkSync(`/proc/self/task/${t}/ns/net`))).toBe(host);
      const inside = await netSnapshot(path);
      expect(inside.links.map((l) => l.name)).toEqual(['lo']);
      expect(inside.links[0]!.flags & IFF_UP).toBe(IFF_UP);
      const [range] = await netExec(path, [{ op: 'sysctl', path: '/proc/sys/net/ipv4/ping_group_range' }]);
      expect(String(range).split(/\s+/)).toEqual(['0', '2147483647']);
      expect(readFileSync('/proc/sys/net/ipv4/ping_group_range', 'utf8')).toBe(hostPing);
      // a second one is another namespace; no mount holds either
      const other = await netnsMake();
      expect(nsInode(readlinkSync(`/proc/self/fd/${other}`))).not.toBe(made);
      closeSync(other);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toMatch(/nsfs/);
    } finally {
      closeSync(fd);
    }
  });
});
