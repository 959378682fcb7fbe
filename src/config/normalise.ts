// Plain, schema-checked data → DesiredState, with the semantic rules the schema cannot
// express. Tolerant: it runs even when the schema found problems (so that every mistake is
// reported at once), skips what was already reported, and never throws on bad data.

import { dirname, isAbsolute, posix, resolve } from 'node:path';
import { canonicalCapability } from '../model/capabilities.js';
import { broadcastOf, contains, formatCidr, gatewayOf, overlaps, parseCidr, parseIpv4, type Cidr } from '../model/ipv4.js';
import type { Attachment, Bandwidth, DesiredState, IoDeviceLimits, Limits, Mount, Network, Port, Privileges, RestartPolicy, Root, Zone } from '../model/types.js';
import { UnitError, parseCount, parseCpus, parseCpuset, parseDuration, parseRate, parseSize } from '../model/units.js';
import { compareText, dotted, show, type ConfigProblem, type Loc } from './errors.js';
import { pointer, type LocIndex } from './plain.js';

type Path = (string | number)[];
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const sortedKeys = (o: Obj): string[] => Object.keys(o).sort();



export const DEFAULT_STOP_GRACE_MS = 10_000;

class Context {
  private readonly flagged: Set<string>;
  constructor(
    readonly index: LocIndex,
    readonly problems: ConfigProblem[],
  ) {
    this.flagged = new Set(problems.map((p) => p.path));
  }

  /** Where a value was written (the nearest located ancestor if it was not). */
  loc(path: Path): Loc | null {
    for (let n = path.length; n >= 0; n--) {
      const l = this.index.get(pointer(path.slice(0, n)));
      if (l) return l.loc;
    }
    return null;
  }

  keyLoc(path: Path): Loc | null {
    const l = this.index.get(pointer(path));
    return l?.keyLoc ?? l?.loc ?? this.loc(path);
  }

  report(path: Path, message: string, at: 'value' | 'key' = 'value'): void {
    this.problems.push({ loc: at === 'key' ? this.keyLoc(path) : this.loc(path), path: dotted(path), message });
  }

  /** True when the schema already reported this value or one of its parents. */
  reported(path: Path): boolean {
    for (let n = path.length; n >= 0; n--) if (this.flagged.has(dotted(path.slice(0, n)))) return true;
    return false;
  }

  /** Parses a value with a unit parser, reporting (once) what is wrong. */
  unit<T>(path: Path, value: unknown, parse: (v: unknown) => T, fallback: T): T {
    if (value === undefined) return fallback;
    try {
      return parse(value);
    } catch (err) {
      if (!(err instanceof UnitError)) throw err;
      if (!this.reported(path)) this.report(path, `${show(value)} ${err.message}`);
      return fallback;
    }
  }

  /** The file a value was written in, for paths relative to it. */
  fileOf(path: Path): string {
    return this.loc(path)?.file ?? process.cwd();
  }
}

export function normalise(plain: unknown, index: LocIndex, project: string, files: string[], problems: ConfigProblem[]): DesiredState {
  const cx = new Context(index, problems);
  const top = isObj(plain) ? plain : {};
  const globalObj = isObj(top.global) ? top.global : {};
  const global = { limits: limitsOf(cx, globalObj.limits, ['global', 'limits']) };

  const networks: Record<string, Network> = {};
  const cidrs = new Map<string, Cidr>();
  const networksObj = isObj(top.networks) ? top.networks : {};
  for (const name of sortedKeys(networksObj)) {
    const n = networkOf(cx, name, networksObj[name], ['networks', name]);
    if (!n) continue;
    networks[name] = n.network;
    if (n.cidr) cidrs.set(name, n.cidr);
  }
  checkOverlaps(cx, cidrs);

  // defaults on their own: a mistake every zone inherits is reported once, at its place under
  // defaults (load.ts keeps that one), and also when no zone inherits it yet.
  if (isObj(top.defaults)) zoneOf(cx, 'defaults', top.defaults, ['defaults'], networks, true);

  const zones: Record<string, Zone> = {};
  const zonesObj = isObj(top.zones) ? top.zones : {};
  for (const name of sortedKeys(zonesObj)) {
    zones[name] = zoneOf(cx, name, zonesObj[name], ['zones', name], networks);
  }
  checkDependencies(cx, zones, zonesObj);
  checkAddresses(cx, zones, networks, cidrs);
  checkPorts(cx, zones, networks);
  return { project, files, global, networks, zones };
}

// ---------------------------------------------------------------- limits

/** `template`: defaults, checked key by key; rules between keys apply once merged into a zone. */
function limitsOf(cx: Context, v: unknown, path: Path, template = false): Limits {
  const o = isObj(v) ? v : {};
  const io = isObj(o.io) ? o.io : {};
  const devicesObj = isObj(io.devices) ? io.devices : {};
  const devices: Record<string, IoDeviceLimits> = {};
  for (const dev of sortedKeys(devicesObj)) {
    const d = isObj(devicesObj[dev]) ? (devicesObj[dev] as Obj) : {};
    const p = [...path, 'io', 'devices', dev];
    devices[dev] = {
      read_bps: cx.unit([...p, 'read_bps'], d.read_bps, parseSize, null),
      write_bps: cx.unit([...p, 'write_bps'], d.write_bps, parseSize, null),
      read_iops: cx.unit([...p, 'read_iops'], d.read_iops, (x) => parseCount(x, 'number of operations'), null),
      write_iops: cx.unit([...p, 'write_iops'], d.write_iops, (x) => parseCount(x, 'number of operations'), null),
    };
  }
  const limits: Limits = {
    cpus: cx.unit([...path, 'cpus'], o.cpus, parseCpus, null),
    cpu_weight: typeof o.cpu_weight === 'number' ? o.cpu_weight : 100,
    cpuset: cx.unit([...path, 'cpuset'], o.cpuset, parseCpuset, null),
    memory: cx.unit([...path, 'memory'], o.memory, parseSize, null),
    memory_swap: cx.unit([...path, 'memory_swap'], o.memory_swap, parseSize, 0),
    memory_reservation: cx.unit([...path, 'memory_reservation'], o.memory_reservation, parseSize, null),
    pids: cx.unit([...path, 'pids'], o.pids, (x) => parseCount(x, 'task count'), null),
    io: { weight: typeof io.weight === 'number' ? io.weight : 100, devices },
  };
  if (template) return limits;
  if (limits.memory === null && limits.memory_swap !== null && limits.memory_swap > 0 && !cx.reported([...path, 'memory_swap'])) {
    cx.report([...path, 'memory_swap'], 'needs memory: swap is allowed on top of a memory cap');
  }
  if (limits.memory !== null && limits.memory_reservation !== null && limits.memory_reservation > limits.memory) {
    cx.report([...path, 'memory_reservation'], `${show(o.memory_reservation)} is more than memory (${show(o.memory)}): a reservation cannot exceed the cap`);
  }
  return limits;
}

// ---------------------------------------------------------------- networks

function networkOf(cx: Context, name: string, v: unknown, path: Path): { network: Network; cidr: Cidr | undefined } | undefined {
  if (!isObj(v)) return undefined;
  let cidr: Cidr | undefined;
  if (typeof v.subnet === 'string' && !cx.reported([...path, 'subnet'])) {
    const c = parseCidr(v.subnet);
    if ('error' in c) cx.report([...path, 'subnet'], `${show(v.subnet)} ${c.error}`);
    else if (c.prefix > 30) cx.report([...path, 'subnet'], `${show(v.subnet)} is too small: a segment needs at least a /30`);
    else cidr = c;
  }
  const gateway = v.gateway === true;
  const egress = v.egress === 'nat' ? 'nat' : 'none';
  const internal = v.internal === true;
  if (internal && gateway) cx.report([...path, 'gateway'], 'an internal network cannot have a gateway');
  if (internal && egress === 'nat') cx.report([...path, 'egress'], 'an internal network cannot have egress');
  else if (egress === 'nat' && !gateway) cx.report([...path, 'egress'], 'egress: nat needs gateway: true (traffic leaves through the host)');
  return {
    network: { name, subnet: cidr ? formatCidr(cidr) : String(v.subnet ?? ''), gateway, egress, internal },
    cidr,
  };
}

function checkOverlaps(cx: Context, cidrs: Map<string, Cidr>): void {
  const names = [...cidrs.keys()];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      const a = cidrs.get(names[i]!)!;
      const b = cidrs.get(names[j]!)!;
      if (overlaps(a, b)) {
        cx.report(['networks', names[j]!, 'subnet'], `${formatCidr(b)} overlaps network ${names[i]} (${formatCidr(a)})`);
      }
    }
  }
}

// ---------------------------------------------------------------- zones

function zoneOf(cx: Context, name: string, v: unknown, path: Path, networks: Record<string, Network>, template = false): Zone {
  const o = isObj(v) ? v : {};
  return {
    name,
    hostname: typeof o.hostname === 'string' ? o.hostname : name,
    root: rootOf(cx, o.root, [...path, 'root']),
    read_only: o.read_only === true,
    command: typeof o.command === 'string' ? ['/bin/sh', '-c', o.command] : Array.isArray(o.command) ? o.command.map(String) : [],
    workdir: typeof o.workdir === 'string' ? posix.normalize(o.workdir) : '/',
    env: envOf(o.env),
    user: typeof o.user === 'string' ? o.user : typeof o.user === 'number' ? String(o.user) : null,
    mounts: mountsOf(cx, o.mounts, [...path, 'mounts']),
    limits: limitsOf(cx, o.limits, [...path, 'limits'], template),
    networks: attachmentsOf(cx, o.networks, [...path, 'networks'], networks),
    depends_on: Array.isArray(o.depends_on) ? o.depends_on.filter((d): d is string => typeof d === 'string') : [],
    restart: restartOf(o.restart),
    ports: portsOf(cx, o.ports, [...path, 'ports']),
    stop_grace_period: cx.unit([...path, 'stop_grace_period'], o.stop_grace_period, parseDuration, DEFAULT_STOP_GRACE_MS),
    privileges: privilegesOf(cx, o.privileges, [...path, 'privileges']),
  };
}

function rootOf(cx: Context, v: unknown, path: Path): Root {
  if (isObj(v)) {
    if (typeof v.path === 'string') return { kind: 'path', path: resolve(dirname(cx.fileOf([...path, 'path'])), v.path) };
    if (typeof v.image === 'string') return { kind: 'image', image: resolve(dirname(cx.fileOf([...path, 'image'])), v.image) };
  }
  return { kind: 'sparse' };
}

function envOf(v: unknown): Record<string, string> {
  const env = new Map<string, string>(); // a Map: a variable named __proto__ is still a variable
  if (Array.isArray(v)) {
    for (const item of v) {
      if (typeof item !== 'string') continue;
      const eq = item.indexOf('=');
      if (eq > 0) env.set(item.slice(0, eq), item.slice(eq + 1));
    }
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) env.set(k, val === null || val === undefined ? '' : String(val));
  }
  return Object.fromEntries([...env].sort(([a], [b]) => compareText(a, b)));
}

function mountsOf(cx: Context, v: unknown, path: Path): Mount[] {
  if (!Array.isArray(v)) return [];
  const mounts: Mount[] = [];
  const targets = new Map<string, number>();
  v.forEach((m, i) => {
    if (!isObj(m) || typeof m.target !== 'string') return;
    const p = [...path, i];
    const target = posix.normalize(m.target).replace(/(.)\/$/, '$1');
    if (target === '/') cx.report([...p, 'target'], 'cannot mount over the zone\'s root: use root: { path: DIR } instead');
    const prev = targets.get(target);
    if (prev !== undefined) cx.report([...p, 'target'], `${show(m.target)} is already the target of mounts[${prev}]`);
    targets.set(target, i);
    if (cx.reported([...p, 'type'])) return; // neither bind nor tmpfs: nothing more to check
    if (m.type === 'tmpfs') {
      if (m.source !== undefined) cx.report([...p, 'source'], 'a tmpfs mount has no source');
      mounts.push({ type: 'tmpfs', target, size: cx.unit([...p, 'size'], m.size, parseSize, null) });
      return;
    }
    if (m.size !== undefined) cx.report([...p, 'size'], 'size applies only to type: tmpfs');
    if (typeof m.source !== 'string') {
      if (!cx.reported([...p, 'source'])) cx.report(p, 'a bind mount needs a source (or type: tmpfs)');
      return;
    }
    const source = isAbsolute(m.source) ? posix.normalize(m.source) : resolve(dirname(cx.fileOf([...p, 'source'])), m.source);
    mounts.push({ type: 'bind', source, target, read_only: m.read_only === true });
  });
  return mounts;
}

function bandwidthOf(cx: Context, v: unknown, path: Path): Bandwidth {
  if (typeof v === 'string' || typeof v === 'number') {
    const rate = cx.unit(path, v, parseRate, null);
    return { ingress: rate, egress: rate };
  }
  if (isObj(v)) {
    return {
      ingress: cx.unit([...path, 'ingress'], v.ingress, parseRate, null),
      egress: cx.unit([...path, 'egress'], v.egress, parseRate, null),
    };
  }
  return { ingress: null, egress: null };
}

function attachmentsOf(cx: Context, v: unknown, path: Path, networks: Record<string, Network>): Record<string, Attachment> {
  const out: Record<string, Attachment> = {};
  const entries: [string, unknown, Path, 'value' | 'key'][] = Array.isArray(v)
    ? v.map((n, i) => [String(n), null, [...path, i], 'value'])
    : isObj(v)
      ? Object.entries(v).map(([n, a]) => [n, a, [...path, n], 'key'])
      : [];
  const seen = new Set<string>();
  for (const [name, a, p, at] of entries.sort((x, y) => compareText(x[0], y[0]))) {
    if (cx.reported(p)) continue;
    if (seen.has(name)) {
      cx.report(p, `lists network ${JSON.stringify(name)} twice`);
      continue;
    }
    seen.add(name);
    if (!Object.hasOwn(networks, name)) {
      const known = Object.keys(networks);
      cx.report(p, `network ${JSON.stringify(name)} is not declared under networks${known.length ? ` (declared: ${known.join(', ')})` : ''}`, at);
      continue;
    }
    const o = isObj(a) ? a : {};
    const mac = typeof o.mac === 'string' ? o.mac.toLowerCase() : null;
    if (mac !== null && !cx.reported([...p, 'mac'])) {
      if (parseInt(mac.slice(0, 2), 16) & 1) cx.report([...p, 'mac'], `${show(o.mac)} is a multicast address: the first byte must be even (e.g. 02:…)`);
      else if (/^(00:){5}00$/.test(mac)) cx.report([...p, 'mac'], `${show(o.mac)} is not a usable address`);
    }
    out[name] = {
      address: typeof o.address === 'string' ? o.address : null,
      bandwidth: bandwidthOf(cx, o.bandwidth, [...p, 'bandwidth']),
      mac,
    };
  }
  return out;
}

function restartOf(v: unknown): RestartPolicy {
  if (v === 'always') return { policy: 'always' };
  if (typeof v === 'string' && v.startsWith('on-failure')) {
    const n = v.split(':')[1];
    return { policy: 'on-failure', max_retries: n === undefined ? null : Number(n) };
  }
  return { policy: 'no' };
}

/** Where each port was written in its list (invalid ones are left out of zone.ports). */
const writtenAt = new WeakMap<Port, number>();

function portsOf(cx: Context, v: unknown, path: Path): Port[] {
  if (!Array.isArray(v)) return [];
  const ports: Port[] = [];
  v.forEach((item, i) => {
    if (typeof item !== 'string' || cx.reported([...path, i])) return;
    const [spec, proto = 'tcp'] = item.split('/');
    const parts = spec!.split(':');
    const host_ip = parts.length === 3 ? parts[0]! : null;
    const host_port = Number(parts.at(-2));
    const zone_port = Number(parts.at(-1));
    if (host_ip !== null && parseIpv4(host_ip) === null) return cx.report([...path, i], `${show(item)}: ${host_ip} is not an IPv4 address`);
    for (const port of [host_port, zone_port]) {
      if (!(port >= 1 && port <= 65535)) return cx.report([...path, i], `${show(item)}: port ${port} is out of range (1-65535)`);
    }
    const port: Port = { host_ip, host_port, zone_port, protocol: proto === 'udp' ? 'udp' : 'tcp' };
    writtenAt.set(port, i);
    ports.push(port);
  });
  return ports;
}

function privilegesOf(cx: Context, v: unknown, path: Path): Privileges {
  const o = isObj(v) ? v : {};
  const caps = isObj(o.capabilities) ? o.capabilities : {};
  const list = (key: 'add' | 'drop'): string[] => {
    const raw = Array.isArray(caps[key]) ? (caps[key] as unknown[]) : [];
    const out = new Set<string>();
    raw.forEach((c, i) => {
      if (typeof c !== 'string' || cx.reported([...path, 'capabilities', key, i])) return;
      const canonical = canonicalCapability(c);
      if (canonical) out.add(canonical);
      else cx.report([...path, 'capabilities', key, i], `${show(c)} is not a Linux capability`);
    });
    return [...out].sort();
  };
  return {
    capabilities: { add: list('add'), drop: list('drop') },
    seccomp: o.seccomp === 'unconfined' ? 'unconfined' : 'default',
    userns: o.userns === true,
  };
}

// ---------------------------------------------------------------- cross-zone rules

function checkDependencies(cx: Context, zones: Record<string, Zone>, zonesObj: Obj): void {
  // Positions index the list as written (zone.depends_on leaves out what is not text).
  const written = (name: string): unknown[] => {
    const z = zonesObj[name];
    return isObj(z) && Array.isArray(z.depends_on) ? z.depends_on : [];
  };
  for (const name of Object.keys(zones)) {
    const list = written(name);
    list.forEach((dep, i) => {
      const p = ['zones', name, 'depends_on', i];
      if (typeof dep !== 'string' || cx.reported(p)) return;
      if (list.indexOf(dep) < i) cx.report(p, `lists zone ${JSON.stringify(dep)} twice`);
      else if (dep === name) cx.report(p, `zone ${name} cannot depend on itself`);
      else if (!Object.hasOwn(zones, dep)) cx.report(p, `zone ${JSON.stringify(dep)} is not declared under zones`);
    });
  }
  // Cycles: depth-first, in name order, so the same cycle is always named the same way.
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'open');
    stack.push(name);
    for (const dep of zones[name]!.depends_on) {
      if (!Object.hasOwn(zones, dep) || dep === name) continue; // hasOwn: a zone may be called constructor
      if (state.get(dep) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(dep)), dep];
        const from = cycle[0]!;
        cx.report(['zones', from, 'depends_on', written(from).indexOf(cycle[1]!)], `dependency cycle: ${cycle.join(' → ')}`);
      } else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of Object.keys(zones).sort()) if (!state.has(name)) visit(name);
}

function checkAddresses(cx: Context, zones: Record<string, Zone>, networks: Record<string, Network>, cidrs: Map<string, Cidr>): void {
  const used = new Map<string, string>(); // network/address → zone
  const macs = new Map<string, string>();
  for (const [name, zone] of Object.entries(zones)) {
    for (const [net, att] of Object.entries(zone.networks)) {
      const p = ['zones', name, 'networks', net];
      if (att.mac !== null) {
        const other = macs.get(att.mac);
        if (other) cx.report([...p, 'mac'], `${att.mac} is already used by ${other}`);
        else macs.set(att.mac, `zone ${name} on ${net}`);
      }
      if (att.address === null || cx.reported([...p, 'address'])) continue;
      const addr = parseIpv4(att.address);
      const cidr = cidrs.get(net);
      if (addr === null) {
        cx.report([...p, 'address'], `${show(att.address)} is not an IPv4 address`);
        continue;
      }
      if (!cidr) continue;
      if (!contains(cidr, addr)) cx.report([...p, 'address'], `${att.address} is outside the subnet of ${net} (${formatCidr(cidr)})`);
      else if (addr === cidr.base) cx.report([...p, 'address'], `${att.address} is the network address of ${formatCidr(cidr)}`);
      else if (addr === broadcastOf(cidr)) cx.report([...p, 'address'], `${att.address} is the broadcast address of ${formatCidr(cidr)}`);
      else if (networks[net]?.gateway && addr === gatewayOf(cidr)) cx.report([...p, 'address'], `${att.address} is the gateway (the host's address on ${net})`);
      else {
        const key = `${net}/${att.address}`;
        const other = used.get(key);
        if (other) cx.report([...p, 'address'], `${att.address} is already the address of zone ${other} on ${net}`);
        else used.set(key, name);
      }
    }
  }
}

function checkPorts(cx: Context, zones: Record<string, Zone>, networks: Record<string, Network>): void {
  const published = new Map<string, { zone: string; ip: string | null; text: string }[]>();
  for (const [name, zone] of Object.entries(zones)) {
    if (zone.ports.length === 0) continue;
    const p = ['zones', name, 'ports'];
    const nets = Object.keys(zone.networks).map((n) => networks[n]).filter((n): n is Network => n !== undefined);
    const internal = nets.find((n) => n.internal);
    if (internal) cx.report(p, `zone ${name} is on the internal network ${internal.name}, which forbids published ports`);
    else if (!nets.some((n) => n.gateway)) cx.report(p, `published ports need zone ${name} on a network with gateway: true`);
    zone.ports.forEach((port, i) => {
      const key = `${port.host_port}/${port.protocol}`;
      const text = `${port.host_ip ? `${port.host_ip}:` : ''}${port.host_port}/${port.protocol}`;
      const clash = (published.get(key) ?? []).find((q) => q.ip === null || port.host_ip === null || q.ip === port.host_ip);
      if (clash) cx.report([...p, writtenAt.get(port) ?? i], `host port ${text} is already published by zone ${clash.zone} (${clash.text})`);
      published.set(key, [...(published.get(key) ?? []), { zone: name, ip: port.host_ip, text }]);
    });
  }
}
