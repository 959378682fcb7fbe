// Shared pieces of the benchmark scenarios: timing and statistics, machine facts, the results
// file, cleanup that runs even on failure, and a leak check over everything a scenario may
// create (cgroups, links, netns, mounts, records, processes under the names zb-*).
//
// Rules every scenario follows: compare cases interleaved in the same run, report min/median/
// max and ratios of medians (never single absolute times), create kernel objects only under
// zonectl's own names for zb-* projects or under zb* names, and clean up in a finally.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const RESULTS = join(root, 'bench', 'RESULTS.md');
/**
 * The zonectl command as a user runs it: the bin, exec'd, so that its shell line runs (it starts
 * node without NODE_EXTRA_CA_CERTS; see bin/zonectl.cjs).
 */
export const ZONECTL = join(root, 'bin', 'zonectl.cjs');
/** Scratch space for projects and bundles; /tmp is local tmpfs or disk, never the repo. */
export const SCRATCH = '/tmp/zb-bench';
/** Every subnet a scenario uses lies inside this block (checked against the host's routes). */
export const BENCH_BLOCK = '10.213.224.0/20';

// ---------------------------------------------------------------- running and timing

/** Run a command, return { status, stdout, stderr }; throws when check and it fails. */
export function run(cmd, args = [], { check = true, input, env, cwd = root, timeout } = {}) {
  const r = spawnSync(cmd, args, { cwd, env, input, encoding: 'utf8', maxBuffer: 64 << 20, timeout, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (check && r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
  return r;
}

export function zonectl(args, opts) {
  return run(ZONECTL, args, opts);
}

/**
 * Wall time in ms of one command (output discarded, failure is an error). `detached`: the
 * command leaves a process behind that would hold a stderr pipe open, and spawnSync would wait
 * for it (`crun run -d`): stderr is discarded too.
 */
export function time(cmd, args = [], opts = {}) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? root, env: opts.env, stdio: ['ignore', 'ignore', opts.detached ? 'ignore' : 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr ?? '').trim().slice(-2000)}`);
  return ms;
}

/** Time of an async or sync function, in ms. */
export async function timeFn(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/**
 * The whole machine's CPU time so far, in ms: user (with nice) and kernel (with interrupts),
 * from the first line of /proc/stat (USER_HZ ticks, 10 ms each). Taken around a run, it counts
 * every process the run started (zonectl's helpers, the zones' commands, the kernel threads it
 * woke), which the run's own rusage does not; on an idle machine, that is the run's cost.
 */
export function systemCpu() {
  const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  return { user: (user + nice) * 10, kernel: (system + irq + softirq) * 10 };
}

/** timeFn, with the machine's CPU time (systemCpu) spent meanwhile. */
export async function timeCpu(fn) {
  const a = systemCpu();
  const ms = await timeFn(fn);
  const b = systemCpu();
  return { ms, user: b.user - a.user, kernel: b.kernel - a.kernel };
}

export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, min: s[0], median: s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2, p99: q(0.99), max: s.at(-1) };
}

/**
 * Interleaved runs: each round runs every case once, in order, so load changes hit all alike.
 * A case is { cmd, args, pre?(), post?(), skip? } (pre/post untimed) or { fn } (timed itself).
 * Prints each case's stats as it finishes; returns { name: [ms...] }.
 */
export async function interleave(cases, runs, { warmup = 1, label = '' } = {}) {
  const names = Object.keys(cases).filter((k) => !cases[k].skip);
  const samples = Object.fromEntries(names.map((k) => [k, []]));
  const once = async (c) => {
    await c.pre?.();
    try {
      return c.fn ? await c.fn() : time(c.cmd, c.args, c);
    } finally {
      await c.post?.();
    }
  };
  for (let i = 0; i < warmup; i++) for (const k of names) await once(cases[k]);
  for (let i = 0; i < runs; i++) {
    for (const k of names) samples[k].push(await once(cases[k]));
    process.stdout.write(`\r${label}round ${i + 1}/${runs}`);
  }
  process.stdout.write('\n');
  for (const k of names) {
    const s = stats(samples[k]);
    console.log(`  ${k.padEnd(52)} min ${fmt(s.min)}  median ${fmt(s.median)}  max ${fmt(s.max)} ms`);
  }
  return samples;
}

export const fmt = (ms, d = 1) => (ms === undefined || Number.isNaN(ms) ? '—' : ms.toFixed(d));
export const ratio = (a, b) => (b > 0 ? (a / b).toFixed(2) + '×' : '—');

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------------------------------------------------------------- machine facts

export function loadavg() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/** The cgroup layout as this host mounts it: v1 controllers, and the unified mount with its controllers. */
export function cgroupLayout() {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const v1 = [];
  let unified = null;
  for (const l of lines) {
    const [pre, post] = l.split(' - ');
    if (!post) continue;
    const [fstype, , opts] = post.split(' ');
    const mnt = pre.split(' ')[4];
    if (fstype === 'cgroup') v1.push(opts.split(',').filter((o) => o !== 'rw' && o !== 'relatime' && o !== 'ro').join(','));
    if (fstype === 'cgroup2') unified = mnt;
  }
  const ctl = unified ? readFileSync(join(unified, 'cgroup.controllers'), 'utf8').trim() : '';
  if (v1.length === 0) return `v2 unified at ${unified} (controllers: ${ctl || 'none'})`;
  return `hybrid: v1 (${v1.join(' ')})${unified ? ` + cgroup2 at ${unified} (controllers: ${ctl || 'none'})` : ''}`;
}

export function machineFacts() {
  const ver = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.split('\n')[0].trim() : 'not installed';
  };
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    cgroups: cgroupLayout(),
    node: process.version,
    'load average at start': loadavg(),
    // where zonectl writes: on a journal-less ext4, inode allocation slows down with the churn
    // of earlier runs (bench/RESULTS.md, findings), so results drift with the machine's history
    filesystems: `/run/zonectl ${fsOf('/run/zonectl')}, /var/lib/zonectl ${fsOf('/var/lib/zonectl')}`,
    NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ? `set (${process.env.NODE_EXTRA_CA_CERTS}); a node start pays for it (\`node -e 0\` here), the zonectl command does not (bin/zonectl.cjs starts node without it)` : 'not set',
    zonectl: `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version} (${gitHead()})`,
    peers: `${ver('crun', ['--version'])}; ${ver('runc', ['--version'])}; ${ver('bwrap', ['--version'])}; ${ver('conmon', ['--version'])}; ${ver('unshare', ['--version'])}`,
    'host speed': hostSpeed(),
  };
}

/**
 * A yardstick for absolute times across runs (the planner's CPU has a target of its own): this
 * host's speed changes from hour to hour and more from day to day (the same planner took 40 /
 * 71 / 65 ms of CPU in round 15, 73 / 146 / 132 ms on round 16's first day), and a bare node
 * start moves with it.
 */
function hostSpeed() {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  const ms = [];
  for (let i = 0; i < 7; i++) {
    const t = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return `\`node -e 0\` without NODE_EXTRA_CA_CERTS, median of 7: ${fmt(stats(ms).median)} ms (compare absolute times only between runs where it is alike)`;
}

/** The filesystem type of the mount holding `path`; for ext4, whether it has a journal (jbd2 lists it). */
function fsOf(path) {
  const r = spawnSync('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '-T', path], { encoding: 'utf8' });
  if (r.status !== 0) return '?';
  const [type, source = ''] = r.stdout.trim().split(/\s+/);
  if (type !== 'ext4') return type;
  return existsSync(`/proc/fs/jbd2/${source.split('/').pop()}-8`) ? 'ext4' : 'ext4 without a journal';
}

function gitHead() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' });
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src', 'native'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  return r.status === 0 ? `${r.stdout.trim()}${dirty ? '+uncommitted src changes' : ''}` : 'no git';
}

export function factsMarkdown(facts) {
  return Object.entries(facts).map(([k, v]) => `- ${k}: ${v}`).join('\n');
}

// ---------------------------------------------------------------- results file

/**
 * Replace this scenario's section of bench/RESULTS.md (between <!-- bench:NAME --> markers),
 * or append it; other scenarios' sections stay as their last run left them.
 */
export function writeSection(name, markdown) {
  const begin = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const head = '# zonectl benchmarks: results\n\nWritten by `npm run bench` (or one scenario: `node bench/NAME.mjs`); each section is replaced by its scenario\'s last run. Timings are wall-clock ms on a shared machine: compare the ratios measured in the same run, not absolute times across sections.\n';
  let text = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : head;
  const block = `${begin}\n${markdown.trim()}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) text = text.slice(0, i) + block + text.slice(j + end.length);
  else text = `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(RESULTS, text);
  console.log(`wrote section ${name} of ${RESULTS}`);
}

/** A markdown table of timing rows: [name, samples, extra columns...]. */
export function statsTable(rows, extraHeads = []) {
  const out = [`| case | n | min | median | max | ${extraHeads.join(' | ')}${extraHeads.length ? ' |' : ''}`, `| --- | --- | --- | --- | --- |${extraHeads.map(() => ' --- |').join('')}`];
  for (const [name, xs, ...extra] of rows) {
    const s = stats(xs);
    out.push(`| ${name} | ${s.n} | ${fmt(s.min)} | ${fmt(s.median)} | ${fmt(s.max)} |${extra.map((e) => ` ${e} |`).join('')}`);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------- cleanup and leak check

const cleanups = [];
/** Register a cleanup; all run (last first) at the end of main(), on error and on SIGINT/SIGTERM. */
export function onCleanup(fn) {
  cleanups.push(fn);
  return () => {
    const i = cleanups.indexOf(fn);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

async function runCleanups() {
  while (cleanups.length > 0) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (e) {
      console.error(`cleanup failed: ${e instanceof Error ? e.message : e}`);
    }
  }
}

/** Objects named for zb-* projects or zb* benchmark names, as the host shows them now. */
export function benchObjects() {
  const found = [];
  for (const hier of safeReaddir('/sys/fs/cgroup')) {
    const base = join('/sys/fs/cgroup', hier);
    for (const d of safeReaddir(join(base, 'zonectl'))) if (d.startsWith('zb-')) found.push(`cgroup ${base}/zonectl/${d}`);
    for (const d of safeReaddir(base)) if (d.startsWith('zb-')) found.push(`cgroup ${base}/${d}`);
  }
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n');
  for (const l of links) {
    const name = l.split(': ')[1]?.split('@')[0];
    if (name && (name.startsWith('zb') || / alias zonectl\/zb-/.test(l))) found.push(`link ${name}`);
  }
  for (const n of safeReaddir('/run/netns')) if (n.startsWith('zb')) found.push(`netns /run/netns/${n}`);
  for (const mnt of mountPoints()) {
    if (mnt.startsWith('/run/zonectl/zb-') || mnt.includes('/zb-bench') || mnt.startsWith('/run/netns/zb')) found.push(`mount ${mnt}`);
  }
  for (const d of safeReaddir('/run/zonectl')) if (d.startsWith('zb-')) found.push(`record /run/zonectl/${d}`);
  // zonectl's own tmpfs (where /run is on a disk) is unmounted by the last run that leaves it empty
  const runMount = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === '/run/zonectl' && / - tmpfs zonectl /.test(l));
  if (runMount && safeReaddir('/run/zonectl').length === 0) found.push('mount /run/zonectl (zonectl\'s tmpfs, empty)');
  for (const d of safeReaddir('/var/lib/zonectl/projects')) if (d.startsWith('zb-')) found.push(`layers /var/lib/zonectl/projects/${d}`);
  for (const d of [...safeReaddir('/run/crun'), ...safeReaddir('/run/runc')]) if (d.startsWith('zb-')) found.push(`container ${d}`);
  for (const p of safeReaddir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue; // gone meanwhile
    }
    // a zone's helper names its spec under /run/zonectl; a peer's runtime or monitor, its bundle under SCRATCH
    if (cmd.includes('/run/zonectl/zb-') || cmd.includes(SCRATCH + '/')) found.push(`process ${p} ${cmd.slice(0, 80)}`);
  }
  return found.sort();
}

function safeReaddir(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * What a scenario must leave as it found, beyond zb-* names: the entries at the top of the
 * cgroup mount point (on a v1 or hybrid host a tmpfs holding the hierarchies' mounts, where a
 * peer's cgroup manager can make a directory it expects, a co-mounted `cpu,cpuacct`), and the
 * host's mount points (iproute2's first `ip netns add` makes /run/netns a mount of its own).
 */
export function hostBaseline() {
  return { cgroupRoot: safeReaddir('/sys/fs/cgroup').sort(), mounts: mountPoints(), runDir: existsSync('/run/zonectl') };
}

/** The host's mount points, one entry per mount (this process's mount namespace: the host's). */
export function mountPoints() {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[4]);
}

/** What is on the host now and was not in `before` (a hostBaseline()). */
function addedSince(before) {
  const now = hostBaseline();
  const left = now.cgroupRoot.filter((e) => !before.cgroupRoot.includes(e)).map((e) => `/sys/fs/cgroup/${e} (new at the cgroup mount point; zonectl makes nothing there)`);
  // the run directory goes with the last run that leaves it empty (src/host/state/volatile.ts)
  if (now.runDir && !before.runDir && safeReaddir('/run/zonectl').length === 0) left.push('/run/zonectl (new, and empty)');
  const mounts = [...before.mounts];
  for (const m of now.mounts) {
    const i = mounts.indexOf(m);
    if (i >= 0) mounts.splice(i, 1);
    else left.push(`mount ${m} (new)`);
  }
  return left;
}

/** Fails (throws) when anything zb-* is left, or (given a hostBaseline() from before) anything new. */
export function assertClean(when, before) {
  const left = [...benchObjects(), ...(before ? addedSince(before) : [])];
  if (left.length > 0) throw new Error(`leak check ${when}: left behind:\n  ${left.join('\n  ')}`);
  console.log(`leak check ${when}: clean`);
}

/**
 * The scenario's entry: checks that nothing zb-* is there before, runs body, always runs the
 * registered cleanups, then checks that nothing is left. Sets the exit code on failure.
 */
export async function main(name, body) {
  let failed = false;
  const bail = (sig) => {
    console.error(`\n${name}: ${sig}, cleaning up`);
    runCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', bail);
  process.once('SIGTERM', bail);
  const before = hostBaseline();
  try {
    assertClean(`before ${name}`);
    mkdirSync(SCRATCH, { recursive: true });
    await body();
  } catch (e) {
    failed = true;
    console.error(`${name} failed: ${e instanceof Error ? e.stack : e}`);
  } finally {
    await runCleanups();
    process.off('SIGINT', bail);
    process.off('SIGTERM', bail);
  }
  try {
    assertClean(`after ${name}`, before);
  } catch (e) {
    failed = true;
    console.error(e.message);
  }
  if (failed) process.exitCode = 1;
  return !failed;
}

/** Whether this module is the script node was started with. */
export function isMain(url) {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1];
}

// ---------------------------------------------------------------- projects

const ip4 = (s) => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
function cidrRange(c) {
  const [a, p = '32'] = c.split('/');
  const size = 2 ** (32 - Number(p));
  const base = Math.floor(ip4(a) / size) * size;
  return [base, base + size - 1];
}

/** Throws when a host route (other than the default) overlaps BENCH_BLOCK: the bench would shadow it. */
export function assertBlockFree() {
  const [lo, hi] = cidrRange(BENCH_BLOCK);
  const clash = run('ip', ['-4', '-o', 'route', 'show', 'table', 'all'], { check: false }).stdout.split('\n').filter((l) => {
    const words = l.trim().split(/\s+/);
    const dst = ['local', 'broadcast', 'unicast', 'blackhole', 'unreachable', 'prohibit'].includes(words[0]) ? words[1] : words[0];
    if (!dst || dst === 'default' || !/^\d/.test(dst)) return false;
    const [a, b] = cidrRange(dst);
    return a <= hi && b >= lo;
  });
  if (clash.length) throw new Error(`${BENCH_BLOCK} overlaps host routes (${clash.join('; ')}): choose another block`);
}

/** Write a project directory with zones.yaml; returns its path. */
export function writeProject(name, yamlText) {
  const dir = join(SCRATCH, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'zones.yaml'), yamlText);
  return dir;
}

/** zonectl down --volumes of a project directory, tolerant (a cleanup). */
export function downProject(dir) {
  const r = zonectl(['-q', '-f', dir, 'down', '--volumes'], { check: false });
  if (r.status !== 0) console.error(`down ${dir}: exit ${r.status}: ${r.stderr.trim()}`);
}

/** A zone block for YAML (sleep as the command: a started zone that stays up). */
export function zoneYaml(name, { memory = '32M', pids = 32, cpus = 0.5, networks = [] } = {}) {
  return `  ${name}:\n    root: sparse\n    command: ["/bin/sleep", "infinity"]\n    limits: { memory: ${memory}, pids: ${pids}, cpus: ${cpus} }\n    networks: [${networks.join(', ')}]\n`;
}
