// Builds the escape probe (probe.c, static, libc only) into a directory that tests bind-mount
// into zones, and parses its output.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE = new URL('./probe.c', import.meta.url).pathname;

/** Compile the probe into DIR/probe; returns DIR (mode 755, so a zone's mapped root can enter it). */
export function buildProbe(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  execFileSync('gcc', ['-static', '-O1', '-Wall', '-Wextra', '-o', join(dir, 'probe'), SOURCE], { stdio: 'pipe' });
  return dir;
}

export interface CheckResult {
  pass: boolean;
  detail: string;
}

/** `PASS name: detail` / `FAIL name: detail` lines → name → result. */
export function parseChecks(out: string): Record<string, CheckResult> {
  const r: Record<string, CheckResult> = {};
  for (const m of out.matchAll(/^(PASS|FAIL) ([\w-]+): (.*)$/gm)) {
    if (m[2] !== undefined) r[m[2]] = { pass: m[1] === 'PASS', detail: m[3] ?? '' };
  }
  return r;
}

/** `NAME ERRNO` lines of `probe syscalls` → name → errno name or 'ok'. */
export function parseSyscalls(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const m of out.matchAll(/^([\w-]+) (\S+)$/gm)) if (m[1] !== undefined && m[2] !== undefined) r[m[1]] = m[2];
  return r;
}
