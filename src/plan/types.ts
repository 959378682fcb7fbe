// The plan is a value: a closed set of actions, each with a cause that explains (and never
// decides), the fields that differ with before → after, and the order constraints the
// executor must respect. Rendering, JSON, watch mode and the reconciler all read it.

import type { ChangeRule } from '../model/fields.js';
import type { Limits, Network, Zone } from '../model/types.js';

export const PLAN_FORMAT_VERSION = '1.0';

export type ResourceKind = 'global' | 'network' | 'zone';

/** `global`, `network.front`, `zone.web`. */
export type ResourceId = string;

export interface FieldChange {
  /** Dotted path as written in zones.yaml: `limits.memory`, `networks.front.address`. */
  path: string;
  before: unknown;
  after: unknown;
  rule: ChangeRule;
}

interface ActionBase {
  id: ResourceId;
  resource: ResourceKind;
  name: string;
  /** Why, in plain words; explains only. */
  cause: string;
  /** Actions that must complete first (ids). */
  after_actions: ResourceId[];
}

export interface CreateAction extends ActionBase {
  kind: 'create';
  desired: Zone | Network | { limits: Limits };
}
export interface UpdateAction extends ActionBase {
  kind: 'update';
  desired: Zone | Network | { limits: Limits };
  changes: FieldChange[];
}
export interface ReplaceAction extends ActionBase {
  kind: 'replace';
  desired: Zone | Network;
  changes: FieldChange[];
  /** The fields that forced the replacement (empty when the cause is a dead process). */
  replace_paths: string[];
}
export interface DeleteAction extends ActionBase {
  kind: 'delete';
}

export type Action = CreateAction | UpdateAction | ReplaceAction | DeleteAction;
export type ActionKind = Action['kind'];

export interface Diagnostic {
  severity: 'error' | 'warning';
  id: ResourceId;
  path: string;
  message: string;
}

export interface Plan {
  format_version: typeof PLAN_FORMAT_VERSION;
  project: string;
  /** The desired state the plan leads to, every attachment's address and MAC decided. */
  zones: Record<string, Zone>;
  networks: Record<string, Network>;
  /** In an order that respects every `after_actions` (a valid serial execution order). */
  actions: Action[];
  diagnostics: Diagnostic[];
}

export function hasErrors(plan: Plan): boolean {
  return plan.diagnostics.some((d) => d.severity === 'error');
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}
