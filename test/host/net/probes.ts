// Real packets between namespaces: small node programs run inside a network namespace with
// nsenter (util-linux). A listener reports each connection it accepted; a client reports
// whether it connected, what it was answered and how long the transfer took.
import { spawn, type ChildProcess } from 'node:child_process';

const SERVER = `
const net = require('node:net');
const [port, host] = [Number(process.argv[1]), process.argv[2]];
const s = net.createServer((c) => {
  let bytes = 0, first = null;
  c.on('data', (d) => { if (first === null) first = process.hrtime.bigint(); bytes += d.length; });
  c.on('end', () => {
    const ms = first === null ? 0 : Number(process.hrtime.bigint() - first) / 1e6;
    process.stdout.write(JSON.stringify({ from: c.remoteAddress, bytes, ms }) + '\\n');
    c.end('ok');
  });
  c.on('error', () => {});
});
s.listen(port, host, () => process.stdout.write('ready\\n'));
`;

const CLIENT = `
const net = require('node:net');
const [host, port, local, bytes, timeout] = process.argv.slice(1);
const t0 = process.hrtime.bigint();
const done = (r) => { process.stdout.write(JSON.stringify(r) + '\\n'); process.exit(0); };
setTimeout(() => done({ ok: false, code: 'TIMEOUT' }), Number(timeout));
const c = net.connect({ host, port: Number(port), ...(local ? { localAddress: local } : {}) });
let reply = '';
c.on('connect', () => {
  const n = Number(bytes);
  const chunk = Buffer.alloc(64 * 1024, 120);
  let sent = 0;
  const pump = () => {
    while (sent < n) {
      const b = chunk.subarray(0, Math.min(chunk.length, n - sent));
      sent += b.length;
      if (!c.write(b)) return c.once('drain', pump);
    }
    c.end();
  };
  pump();
});
c.on('data', (d) => (reply += d));
c.on('end', () => done({ ok: reply === 'ok', reply, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
c.on('error', (e) => done({ ok: false, code: e.code }));
`;

function inNetns(netns: string | null, args: string[]): ChildProcess {
  const argv = netns === null ? [process.execPath, ...args] : ['nsenter', `--net=${netns}`, process.execPath, ...args];
  return spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Accepted {
  from: string;
  bytes: number;
  ms: number;
}

export interface Listener {
  accepted: Accepted[];
  close(): void;
}

const running = new Set<ChildProcess>();

/** A TCP listener inside `netns` (null: the host), ready when this resolves. */
export function listen(netns: string | null, port: number, host = '0.0.0.0'): Promise<Listener> {
  const child = inNetns(netns, ['-e', SERVER, String(port), host]);
  running.add(child);
  const accepted: Accepted[] = [];
  let buf = '';
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'ready') resolve({ accepted, close: () => { child.kill('SIGKILL'); running.delete(child); } });
        else accepted.push(JSON.parse(line) as Accepted);
      }
    });
    child.on('exit', (code) => reject(new Error(`listener in ${netns} exited (${code}): ${err}`)));
  });
}

export interface Probe {
  ok: boolean;
  code?: string;
  ms?: number;
}

/** Connect from inside `netns`, send `bytes`, wait for the listener's answer. */
export function connect(netns: string | null, host: string, port: number, opts: { localAddress?: string; bytes?: number; timeoutMs?: number } = {}): Promise<Probe> {
  const child = inNetns(netns, ['-e', CLIENT, host, String(port), opts.localAddress ?? '', String(opts.bytes ?? 1), String(opts.timeoutMs ?? 1500)]);
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', () => {
      running.delete(child);
      const line = out.trim().split('\n').at(-1) ?? '';
      if (line === '') reject(new Error(`probe from ${netns} to ${host}:${port} printed nothing: ${err}`));
      else resolve(JSON.parse(line) as Probe);
    });
  });
}

/** Kill every probe process still running (afterEach). */
export function killProbes(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  running.clear();
}
