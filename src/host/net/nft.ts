// The per-project nftables table `inet zonectl-PROJECT`, for its segments with a gateway:
// forwarding between them and other zonectl segments dropped, masquerading for `egress: nat`,
// DNAT for published ports (a project without a gateway has no table). Rendered by a pure
// function, replaced atomically by one run of nft's commands (the table is declared, deleted
// and declared again in one transaction), deleted with the project.
// The commands run through libnftables inside zonectl (the library the `nft` command is a
// shell over), not an `nft` process: ~2 ms instead of ~7 ms for a new table, ~2 ms instead of
// 20-30 ms to delete one. A table the kernel does not have yet is only declared: deleting one
// in a transaction made the commit wait for an RCU grace period (~10-15 ms, measured with the
// `nft` process), which a new project need not pay.
//
// The text last applied is kept in /run/zonectl/PROJECT/nft.rules with the table's handle, so
// that an unchanged table costs one netlink request instead of a run of nft's commands: the
// table is replaced unless the text is the same and the kernel still has the table with that
// handle. A reboot (the file is on a tmpfs), a table deleted by hand, or one made again by
// someone else (a new handle) is therefore replaced at the next apply.
//
// Note on br_netfilter: with bridge-nf-call-iptables=1, frames bridged between two zones on
// one segment also traverse the inet forward hook, with iif = oif = the bridge. Every rule
// below therefore compares both sides, so that traffic staying on one segment is never hit.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bridgeName } from '../../model/names.js';
import { NFPROTO_INET, nftAvailable, nftRun, nftTableHandle } from '../../native/net.js';
import { HostError, errnoCode } from '../errors.js';
import type { ProjectRules } from './driver.js';
import { DEFAULT_RUN_DIR } from '../dirs.js';
import { removeDirIfEmpty, removeFile, writeFileAtomic } from '../files.js';

export function tableName(project: string): string {
  return `zonectl-${project}`;
}

const q = (s: string): string => JSON.stringify(s);

/**
 * The table's definition, or null when no network of the project has a gateway (the table is
 * deleted, or never made). A segment without a gateway needs no rule: the host has no address
 * and so no route into it, and each zone's antispoofing filter drops, at its veth, every IPv4
 * packet for an address outside the segment, so nothing from it is ever routed. (`internal`
 * forbids a gateway; NAT and published ports need one.)
 */
export function renderRules(project: string, rules: ProjectRules): string | null {
  const nets = Object.values(rules.networks)
    .filter((n) => n.gateway)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  if (nets.length === 0) return null;
  const forward: string[] = [];
  const post: string[] = [];
  const pre: string[] = [];
  for (const n of nets) {
    const br = q(bridgeName(project, n.name));
    forward.push(`iifname ${br} oifname != ${br} oifname "znb*" drop`, `oifname ${br} iifname != ${br} iifname "znb*" drop`);
    if (n.egress === 'nat') post.push(`ip saddr ${n.subnet} oifname != ${br} masquerade`);
    // A port published on 127.0.0.1, reached from the host itself: the DNATed packet leaves
    // with a loopback source, which the zone could not answer (route_localnet is set on the bridge).
    post.push(`ip saddr 127.0.0.0/8 oifname ${br} masquerade`);
  }
  for (const p of [...rules.published].sort((a, b) => (a.zone < b.zone ? -1 : 1))) {
    for (const port of p.ports) {
      const match = port.host_ip === null ? 'fib daddr type local' : `ip daddr ${port.host_ip}`;
      pre.push(`${match} ${port.protocol} dport ${port.host_port} dnat ip to ${p.address}:${port.zone_port}`);
    }
  }
  const t = `inet ${tableName(project)}`;
  const chain = (name: string, head: string, body: string[]): string =>
    [`  chain ${name} {`, `    ${head}`, ...body.map((r) => `    ${r}`), '  }'].join('\n');
  return [
    `table ${t} {`,
    chain('forward', 'type filter hook forward priority filter; policy accept;', forward),
    chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', post),
    chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', pre),
    // Connections the host itself opens to a published port.
    chain('output', 'type nat hook output priority -100; policy accept;', pre),
    '}',
    '',
  ].join('\n');
}

const RULES_FILE = 'nft.rules';

export class NftTables {
  private readonly runDir: string;

  /** `runDir`: where each project's directory is (default /run/zonectl). */
  constructor(opts: { runDir?: string } = {}) {
    this.runDir = opts.runDir ?? DEFAULT_RUN_DIR;
  }

  private rulesFile(project: string): string {
    return join(this.runDir, project, RULES_FILE);
  }

  /** Whether nftables is there (libnftables, from Debian's package nftables or libnftables1). */
  available(): Promise<boolean> {
    return nftAvailable();
  }

  async apply(project: string, rules: ProjectRules): Promise<void> {
    const text = renderRules(project, rules);
    if (text === null) return this.remove(project);
    // the plan refuses this first (plan.ts, checkNft)
    if (!(await this.available())) throw new HostError(`project ${project}: a network with a gateway needs nftables (install the Debian package nftables)`, { code: 'ENOENT' });
    const handle = await this.handle(project);
    if (handle !== null && (await this.recorded(project, handle)) === text) return;
    // declared, deleted and defined again in one transaction: the replace is atomic
    const t = `inet ${tableName(project)}`;
    const input = handle === null ? text : `table ${t} {}\ndelete table ${t}\n${text}`;
    await runNft(input, `${handle === null ? 'create' : 'replace'} nftables table ${tableName(project)}`);
    await this.record(project, text);
  }

  async remove(project: string): Promise<void> {
    const t = `inet ${tableName(project)}`;
    // Declaring it first makes the delete succeed whether or not it exists; when the kernel has
    // none (down removes it twice: with the rules, then with the project; a project without a
    // gateway never has one) nothing is run, and libnftables is not even loaded.
    if ((await this.handle(project)) !== null) {
      await runNft(`table ${t} {}\ndelete table ${t}\n`, `delete nftables table ${tableName(project)}`);
    }
    const file = this.rulesFile(project);
    // .tmp: left by a writer killed before its rename
    for (const f of [file, `${file}.tmp`]) removeFile(f);
    // The directory is the project's; it goes only if this file was all that was in it.
    removeDirIfEmpty(join(this.runDir, project));
  }

  /** The kernel's handle of the project's table, or null when there is none. */
  async handle(project: string): Promise<number | null> {
    try {
      return await nftTableHandle(NFPROTO_INET, tableName(project));
    } catch (cause) {
      throw new HostError(`read nftables table ${tableName(project)}`, { cause });
    }
  }

  /** The text last applied, when the table it made is the one the kernel has (`handle`); else null. */
  private async recorded(project: string, handle: number): Promise<string | null> {
    const file = this.rulesFile(project);
    let recorded: string;
    try {
      recorded = readFileSync(file, 'utf8');
    } catch (cause) {
      if (errnoCode(cause) === 'ENOENT') return null;
      throw new HostError(`read ${file}`, { cause, path: file });
    }
    const nl = recorded.indexOf('\n');
    const head = /^# handle (\d+)$/.exec(recorded.slice(0, nl));
    return head !== null && Number(head[1]) === handle ? recorded.slice(nl + 1) : null;
  }

  /** Written only once nft has succeeded: `# handle N`, then the text. */
  private async record(project: string, text: string): Promise<void> {
    const handle = await this.handle(project);
    if (handle === null) return; // gone already (a concurrent remove): nothing to remember
    writeFileAtomic(this.rulesFile(project), `# handle ${handle}\n${text}`, { mode: 0o644, dirMode: 0o755 });
  }

  /** Names of the zonectl tables present (for leak checks). */
  async tables(): Promise<string[]> {
    if (!(await this.available())) return [];
    const out = await runNft('list tables', 'list nftables tables');
    return out.split('\n').map((l) => l.trim().split(/\s+/)[2] ?? '').filter((n) => n.startsWith('zonectl-')).sort();
  }
}

async function runNft(commands: string, what: string): Promise<string> {
  let r;
  try {
    r = await nftRun(commands);
  } catch (cause) {
    throw new HostError(`${what}: ${errnoCode(cause) ?? String(cause)}`, { cause });
  }
  if (!r.ok) throw new HostError(`${what}: nft refused it: ${r.errors.trim().split('\n')[0] ?? ''}`, { value: commands });
  return r.output;
}
