// `zonectl config`: the fully resolved configuration after merging, defaults and interpolation.

import { loadConfig, type LoadOptions } from '../config/load.js';
import { resolvedConfig } from '../config/resolved.js';

export function config(opts: LoadOptions): Record<string, unknown> {
  return resolvedConfig(loadConfig(opts).desired);
}
