/* The zone's record under /run/zonectl/PROJECT/zones/ZONE/state: what the kernel cannot tell.
 * `key=value` lines, replaced atomically (write state.tmp, rename). */
#ifndef ZONECTL_RECORD_H
#define ZONECTL_RECORD_H

#include <sys/types.h>

#include "err.h"

struct record {
  const char *state;           /* starting | running | restarting | exited */
  pid_t supervisor_pid;
  unsigned long long supervisor_start;  /* /proc/PID/stat starttime: guards against pid reuse */
  pid_t init_pid;              /* host pid of the zone's pid 1; 0 when none */
  unsigned long long init_start;
  long long started_at;        /* ms since the epoch, when the command was exec'd */
  int exit_code;               /* -1 = none yet */
  int restarts;
  const struct zerr *error;    /* the last start failure, or NULL */
};

int record_write(const char *dir, const struct record *r);

#endif
