// Host id ranges for zones with privileges.userns: each such zone's ids 0..65535 map to its own
// range of host ids, BASE..BASE+65535, never used by the host or by another zone. The
// allocation lives in LIB/userns (one line per zone: `BASE PROJECT ZONE`, sorted by BASE),
// beside the layers whose files those ids own; it is kept as long as the zone's layers are
// (stop keeps it, removing the zone's layers frees it). Changes are made under LIB/userns.lock.
import { readFile, rename, writeFile } from '../afs.js';
import { join } from 'node:path';

import { lockFile } from '../state/lock.js';

/** Ids per zone: a whole 16-bit range, as the zone's /etc/passwd may use any of them. */
export const IDS_PER_ZONE = 65536;
/** The first host id handed out: far above any host's own users (and below 2^31). */
export const FIRST_BASE = 1_000_000_000;
/** Ranges up to 2^31 - 1: ping_group_range and 32-bit signed ids elsewhere stay valid. */
const LAST_BASE = 2 ** 31 - IDS_PER_ZONE;

interface Entry {
  base: number;
  project: string;
  zone: string;
}

function parse(text: string): Entry[] {
  const out: Entry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\S+) (\S+)$/.exec(line);
    if (m) out.push({ base: Number(m[1]), project: m[2] ?? '', zone: m[3] ?? '' });
  }
  return out;
}

export class IdRanges {
  constructor(private readonly libDir: string) {}

  private get file(): string {
    return join(this.libDir, 'userns');
  }

  private async read(): Promise<Entry[]> {
    try {
      return parse(await readFile(this.file, 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  private async write(entries: Entry[]): Promise<void> {
    const text = entries.sort((a, b) => a.base - b.base).map((e) => `${e.base} ${e.project} ${e.zone}\n`).join('');
    await writeFile(`${this.file}.tmp`, text, { mode: 0o644 });
    await rename(`${this.file}.tmp`, this.file);
  }

  private async locked<T>(f: () => Promise<T>): Promise<T> {
    const lock = await lockFile(`${this.file}.lock`);
    try {
      return await f();
    } finally {
      lock.release();
    }
  }

  /** The zone's range, allocated (the lowest free one) if it has none. */
  async allocate(project: string, zone: string): Promise<number> {
    return this.locked(async () => {
      const entries = await this.read();
      const mine = entries.find((e) => e.project === project && e.zone === zone);
      if (mine) return mine.base;
      const used = new Set(entries.map((e) => e.base));
      let base = FIRST_BASE;
      while (used.has(base)) base += IDS_PER_ZONE;
      if (base > LAST_BASE) throw new Error(`user namespace of zone ${zone}: no free range of ${IDS_PER_ZONE} host ids`);
      await this.write([...entries, { base, project, zone }]);
      return base;
    });
  }

  /** The zone's range, or null. */
  async lookup(project: string, zone: string): Promise<number | null> {
    return (await this.read()).find((e) => e.project === project && e.zone === zone)?.base ?? null;
  }

  async free(project: string, zone: string): Promise<void> {
    if ((await this.lookup(project, zone)) === null) return; // most zones never had one
    await this.locked(async () => {
      const entries = await this.read();
      const rest = entries.filter((e) => !(e.project === project && e.zone === zone));
      if (rest.length !== entries.length) await this.write(rest);
    });
  }
}
