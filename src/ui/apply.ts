// What `up` and `down` print around the live progress: the plan's summary and
// diagnostics before, the failures and limits not applied after.

import type { ExecuteResult } from '../reconcile/execute.js';
import { renderPlan, summarise } from '../plan/render.js';
import type { Plan } from '../plan/types.js';

export function diagnosticsText(plan: Plan): string {
  return plan.diagnostics.map((d) => `${d.severity === 'error' ? 'error' : 'warning'}: ${d.id}: ${d.path}: ${d.message}\n`).join('');
}

export function planHeadline(plan: Plan): string {
  if (plan.actions.length === 0) return `project ${plan.project}: nothing to do, the host matches the files\n`;
  const s = summarise(plan);
  return `project ${plan.project}: ${s.add} to add, ${s.change} to change, ${s.replace} to replace, ${s.destroy} to destroy\n`;
}

export function resultText(plan: Plan, result: ExecuteResult): string {
  const lines: string[] = [];
  for (const a of plan.actions) {
    const r = result.results.get(a.id);
    if (!r) continue;
    if (r.status === 'failed') lines.push(`error: ${a.id}: ${r.error.message}`);
    if (r.status === 'skipped') lines.push(`skipped: ${a.id}: ${r.because} failed`);
    if (r.status === 'done') {
      for (const o of r.outcomes) if (o.status !== 'applied') lines.push(`${o.status}: ${a.id}: limits.${o.limit}: ${o.reason ?? `${o.file} = ${o.value}`}`);
    }
  }
  const rules = result.results.get('rules');
  if (rules?.status === 'failed') lines.push(`error: ${rules.step}: ${rules.error.message}`);
  lines.push(result.ok ? 'done' : 'some changes failed: run zonectl up again to resume from what is actually there');
  return `${lines.join('\n')}\n`;
}

export { renderPlan };

/** What `down --volumes` removed beyond its plan: the layers of zones an earlier `down` stopped. */
export function removedLayersText(project: string, zones: readonly string[]): string {
  return `project ${project}: removed the writable layers of ${zones.length === 1 ? 'zone' : 'zones'} ${zones.join(', ')} (stopped by an earlier down)\n`;
}
