// The plan for people (Terraform-like text) and for machines (versioned JSON), both built
// from the same Plan value.

import { fieldText, fieldView, limitsView, zoneView } from '../model/view.js';
import type { Network, Zone } from '../model/types.js';
import { assertNever, type Action, type Plan } from './types.js';

export interface PlanSummary {
  add: number;
  change: number;
  replace: number;
  destroy: number;
}

export function summarise(plan: Plan): PlanSummary {
  const s: PlanSummary = { add: 0, change: 0, replace: 0, destroy: 0 };
  for (const a of plan.actions) {
    switch (a.kind) {
      case 'create':
        s.add++;
        break;
      case 'update':
        s.change++;
        break;
      case 'replace':
        s.replace++;
        break;
      case 'delete':
        s.destroy++;
        break;
      default:
        assertNever(a);
    }
  }
  return s;
}

export interface Style {
  add(s: string): string;
  change(s: string): string;
  remove(s: string): string;
  dim(s: string): string;
}

export const PLAIN: Style = { add: (s) => s, change: (s) => s, remove: (s) => s, dim: (s) => s };
export const COLOR: Style = {
  add: (s) => `\x1b[32m${s}\x1b[0m`,
  change: (s) => `\x1b[33m${s}\x1b[0m`,
  remove: (s) => `\x1b[31m${s}\x1b[0m`,
  dim: (s) => `\x1b[2m${s}\x1b[0m`,
};

function label(a: Action): string {
  return a.resource === 'global' ? `global (project ${a.name})` : `${a.resource} ${a.name}`;
}

function createLines(a: Action & { kind: 'create' }): string[] {
  if (a.resource === 'network') {
    const n = a.desired as Network;
    return [`subnet: ${n.subnet}`, ...(n.gateway ? ['gateway: true'] : []), ...(n.egress !== 'none' ? [`egress: ${n.egress}`] : []), ...(n.internal ? ['internal: true'] : [])];
  }
  if (a.resource === 'global') return limitLines(a.desired as { limits: Zone['limits'] });
  const z = a.desired as Zone;
  const lines = [`root: ${fieldText('root', z.root)}`, `command: ${z.command.length ? JSON.stringify(z.command) : '(none: the zone idles)'}`];
  lines.push(...limitLines(z));
  for (const [net, att] of Object.entries(z.networks)) lines.push(`networks.${net}: ${att.address} (${att.mac})${att.bandwidth.ingress !== null || att.bandwidth.egress !== null ? ` ${fieldText('bandwidth', att.bandwidth)}` : ''}`);
  if (z.depends_on.length) lines.push(`depends_on: ${z.depends_on.join(', ')}`);
  return lines;
}

function limitLines(x: { limits: Zone['limits'] }): string[] {
  const view = limitsView(x.limits);
  const set = Object.entries(view).filter(([k, v]) => v !== null && !(k === 'cpu_weight' && v === 100) && !(k === 'memory_swap' && v === 0) && k !== 'io');
  const io = x.limits.io;
  const ioSet = io.weight !== 100 || Object.keys(io.devices).length > 0;
  return [...set.map(([k]) => `limits.${k}: ${fieldText(`limits.${k}`, x.limits[k as keyof typeof x.limits])}`), ...(ioSet ? [`limits.io: ${JSON.stringify(io)}`] : [])];
}

export function renderPlan(plan: Plan, style: Style = PLAIN): string {
  if (plan.actions.length === 0 && plan.diagnostics.length === 0) return 'No changes. The host matches the files.\n';
  const out: string[] = [];
  for (const a of plan.actions) {
    switch (a.kind) {
      case 'create':
        out.push(style.dim(`  # ${a.id} will be created`), style.add(`  + ${label(a)}`), ...createLines(a).map((l) => style.add(`      + ${l}`)));
        break;
      case 'update':
        out.push(style.dim(`  # ${a.id} will be updated in place (${a.cause})`), style.change(`  ~ ${label(a)}`));
        for (const c of a.changes) out.push(style.change(`      ~ ${c.path}: ${fieldText(c.path, c.before)} → ${fieldText(c.path, c.after)}`));
        break;
      case 'replace':
        out.push(style.dim(`  # ${a.id} must be replaced (because ${a.cause})`), style.remove('-/+ ') + style.add(label(a)));
        for (const c of a.changes) {
          const forces = c.rule === 'replace' ? style.remove('  # forces replacement') : '';
          out.push(style.change(`      ~ ${c.path}: ${fieldText(c.path, c.before)} → ${fieldText(c.path, c.after)}`) + forces);
        }
        break;
      case 'delete':
        out.push(style.dim(`  # ${a.id} will be deleted (${a.cause})`), style.remove(`  - ${label(a)}`));
        break;
      default:
        assertNever(a);
    }
    out.push('');
  }
  for (const d of plan.diagnostics) {
    const tag = d.severity === 'error' ? style.remove('Error') : style.change('Warning');
    out.push(`${tag}: ${d.id}: ${d.path}: ${d.message}`);
  }
  if (plan.diagnostics.length) out.push('');
  const s = summarise(plan);
  out.push(plan.actions.length === 0 ? 'No changes.' : `Plan: ${s.add} to add, ${s.change} to change, ${s.replace} to replace, ${s.destroy} to destroy.`);
  return `${out.join('\n')}\n`;
}

/** The versioned JSON plan (schema/plan.schema.json): values in user units. */
export function planJson(plan: Plan, operations: Record<string, string[]> = {}): Record<string, unknown> {
  return {
    format_version: plan.format_version,
    project: plan.project,
    summary: summarise(plan),
    actions: plan.actions.map((a) => {
      const base = { id: a.id, kind: a.kind, resource: a.resource, name: a.name, cause: a.cause, after: a.after_actions, operations: operations[a.id] ?? [] };
      switch (a.kind) {
        case 'create':
          return { ...base, desired: desiredView(a) };
        case 'update':
        case 'replace':
          return {
            ...base,
            ...(a.kind === 'replace' ? { replace_paths: a.replace_paths } : {}),
            changes: a.changes.map((c) => ({ path: c.path, before: fieldView(c.path, c.before), after: fieldView(c.path, c.after), applied: c.rule === 'replace' ? 'replace' : 'in-place' })),
            desired: desiredView(a),
          };
        case 'delete':
          return base;
        default:
          return assertNever(a);
      }
    }),
    diagnostics: plan.diagnostics,
  };
}

function desiredView(a: Action & { desired: unknown }): unknown {
  if (a.resource === 'zone') return zoneView(a.desired as Zone);
  if (a.resource === 'global') return { limits: limitsView((a.desired as { limits: Zone['limits'] }).limits) };
  const { name: _n, ...n } = a.desired as Network;
  return n;
}

/** One line per action, for tests and watch mode: `update zone.web limits.memory=128M→256M`. */
export function compactPlan(plan: Plan): string {
  const lines = plan.actions.map((a) => {
    const deps = a.after_actions.length ? ` after ${a.after_actions.join(',')}` : '';
    switch (a.kind) {
      case 'create':
      case 'delete':
        return `${a.kind} ${a.id}${deps}`;
      case 'update':
      case 'replace':
        return `${a.kind} ${a.id} ${a.changes.map((c) => `${c.path}=${fieldText(c.path, c.before)}→${fieldText(c.path, c.after)}`).join(' ')}${a.kind === 'replace' && a.replace_paths.length === 0 ? `(${a.cause})` : ''}${deps}`;
      default:
        return assertNever(a);
    }
  });
  const diags = plan.diagnostics.map((d) => `${d.severity} ${d.id} ${d.path}: ${d.message}`);
  return [...lines, ...diags].join('\n');
}
