// The desired state: the resolved, normalised configuration. Plain data, no host access.
// Keys keep the file's snake_case names so that a field path in a plan (`limits.memory`)
// is the path a user writes in zones.yaml.

/** Unlimited is `null`; every limit is present after normalisation. */
export interface Limits {
  /** CPU bandwidth: quota and period in microseconds (v2 cpu.max, v1 cfs_quota_us/cfs_period_us). */
  cpus: CpuQuota | null;
  /** 1..10000, default 100. */
  cpu_weight: number;
  /** Sorted, de-duplicated CPU numbers; null = all CPUs. */
  cpuset: number[] | null;
  /** Bytes. */
  memory: number | null;
  /** Bytes of swap on top of memory; default 0. */
  memory_swap: number | null;
  /** Bytes; null = no protection. */
  memory_reservation: number | null;
  pids: number | null;
  io: IoLimits;
}

export interface CpuQuota {
  quota_us: number;
  period_us: number;
}

export interface IoLimits {
  /** 1..10000, default 100. */
  weight: number;
  /** Keyed by device path (/dev/vda), sorted. */
  devices: Record<string, IoDeviceLimits>;
}

export interface IoDeviceLimits {
  read_bps: number | null;
  write_bps: number | null;
  read_iops: number | null;
  write_iops: number | null;
}

export type Root =
  | { kind: 'sparse' }
  | { kind: 'path'; path: string }
  | { kind: 'image'; image: string };

export type Mount =
  | { type: 'bind'; source: string; target: string; read_only: boolean }
  | { type: 'tmpfs'; target: string; size: number | null };

/** Bits per second as seen from the zone; null = unshaped. */
export interface Bandwidth {
  ingress: number | null;
  egress: number | null;
}

export interface Attachment {
  /** Static address, or null: assigned by IPAM from the subnet. */
  address: string | null;
  bandwidth: Bandwidth;
  /** Static MAC, or null: derived stably from project, zone and network. */
  mac: string | null;
}

export type RestartPolicy =
  | { policy: 'no' }
  | { policy: 'always' }
  | { policy: 'on-failure'; max_retries: number | null };

export interface Port {
  /** Host address, or null for all addresses. */
  host_ip: string | null;
  host_port: number;
  zone_port: number;
  protocol: 'tcp' | 'udp';
}

export interface Privileges {
  /** Upper-case names with the CAP_ prefix, sorted; `ALL` allowed. */
  capabilities: { add: string[]; drop: string[] };
  seccomp: 'default' | 'unconfined';
  userns: boolean;
}

export interface Zone {
  name: string;
  hostname: string;
  root: Root;
  read_only: boolean;
  /** argv; a string command becomes ['/bin/sh', '-c', command]. Empty: the root's /bin/sh. */
  command: string[];
  workdir: string;
  /** Sorted by key. */
  env: Record<string, string>;
  /** UID[:GID] or a name, as written; null = root. */
  user: string | null;
  mounts: Mount[];
  limits: Limits;
  /** Keyed by network name, sorted. */
  networks: Record<string, Attachment>;
  depends_on: string[];
  restart: RestartPolicy;
  ports: Port[];
  /** Milliseconds. */
  stop_grace_period: number;
  privileges: Privileges;
}

export interface Network {
  name: string;
  /** Canonical CIDR (network address / prefix length). */
  subnet: string;
  gateway: boolean;
  egress: 'nat' | 'none';
  internal: boolean;
}

export interface DesiredState {
  project: string;
  /** The files the configuration came from, absolute, in merge order. */
  files: string[];
  global: { limits: Limits };
  /** Sorted by name. */
  networks: Record<string, Network>;
  /** Sorted by name. */
  zones: Record<string, Zone>;
}
