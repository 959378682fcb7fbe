export type { ExecOptions, ExecResult, LogOptions, StartedZone, ZoneDriver, ZoneStartOptions, ZoneStatus } from './driver.js';
export { NativeZoneDriver, type NativeZoneDriverOptions } from './native.js';
export { ZonePaths, DEFAULT_LIB_DIR, DEFAULT_RUN_DIR } from './paths.js';
export { ensureImage, sha256File } from './image.js';
