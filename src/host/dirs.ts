// Where zonectl keeps what it must: records (gone at reboot, like the zones) and what
// outlives a zone's processes (writable layers, logs, the image cache).

/** Records, locks, hosts files: /run/zonectl/PROJECT/... */
export const DEFAULT_RUN_DIR = '/run/zonectl';

/** Writable layers, logs and unpacked images: /var/lib/zonectl/... */
export const DEFAULT_LIB_DIR = '/var/lib/zonectl';
