// `zonectl validate`: schema and semantic checks; no root, no host access.

import { ConfigError, type ConfigProblem } from '../config/errors.js';
import { loadConfig, type LoadOptions } from '../config/load.js';

export type ValidateResult =
  | { valid: true; project: string; files: string[]; zones: number; networks: number }
  | { valid: false; problems: ConfigProblem[] };

export function validate(opts: LoadOptions): ValidateResult {
  try {
    const { desired } = loadConfig(opts);
    return { valid: true, project: desired.project, files: desired.files, zones: Object.keys(desired.zones).length, networks: Object.keys(desired.networks).length };
  } catch (err) {
    if (err instanceof ConfigError) return { valid: false, problems: err.problems };
    throw err;
  }
}
