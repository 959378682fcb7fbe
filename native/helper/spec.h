/* The zone's spec, written by the TypeScript driver (src/host/zone/spec.ts).
 *
 * Format: a sequence of NUL-terminated fields. Each record is a key followed by a fixed number
 * of value fields (see the table in spec.c). Lists are repeated records, in order. The first
 * record must be `version 1`, the last `end` (a truncated file is rejected). No escaping: a NUL
 * cannot occur in an argv element, an env entry or a path. */
#ifndef ZONECTL_SPEC_H
#define ZONECTL_SPEC_H

#include <stdint.h>

#include "err.h"

enum root_kind { ROOT_SPARSE, ROOT_PATH, ROOT_IMAGE };
enum restart_policy { RESTART_NO, RESTART_ALWAYS, RESTART_ON_FAILURE };
enum mount_kind { MOUNT_BIND, MOUNT_TMPFS };

struct zmount {
  enum mount_kind kind;
  const char *source; /* bind only */
  const char *target; /* absolute, inside the zone */
  int read_only;      /* bind only */
  long long size;     /* tmpfs only; 0 = the kernel's default */
};

struct spec {
  const char *project, *zone, *hostname;
  enum root_kind root;
  const char *lower;        /* path or unpacked image; NULL for sparse */
  const char *rootfs;       /* the empty directory the root is assembled on */
  const char *upper, *work; /* the zone's copy-on-write layer */
  int read_only;
  char **argv;              /* NULL-terminated */
  char **env;               /* NULL-terminated */
  const char *workdir, *user; /* user: NULL = root */
  struct zmount *mounts;
  int nmounts;
  uint64_t caps;            /* bit n = capability n is kept */
  int seccomp;              /* 1 = the default filter (seccomp.c), 0 = unconfined */
  unsigned userns_base, userns_count; /* privileges.userns (userns.h); count 0 = none */
  char **cgroups;           /* cgroup.procs files to join; NULL-terminated */
  const char *state_dir;    /* records */
  const char *log_path;
  long long log_max_bytes;
  int log_max_files;
  enum restart_policy restart;
  int max_retries;          /* on-failure; -1 = unlimited */
  int stop_grace_ms;
};

/* Parse `buf` (len bytes, kept alive by the caller: strings point into it). */
int spec_parse(char *buf, long len, struct spec *s, struct zerr *z);
/* Read a whole file into a malloc'd buffer. */
int spec_read_file(const char *path, char **buf, long *len, struct zerr *z);

#endif
