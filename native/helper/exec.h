/* `zonectl-helper exec`: run a command inside a running zone. Node cannot setns into pid or
 * mount namespaces (it is multi-threaded), so this single-threaded process does it. */
#ifndef ZONECTL_EXEC_H
#define ZONECTL_EXEC_H

#include <sys/types.h>

#include "spec.h"

/* Join the zone's cgroups and namespaces (those of `init_pid`), run argv with the zone's
 * environment and privileges; returns the command's exit status (128+N for signal N). */
int exec_in_zone(const struct spec *s, pid_t init_pid, int tty, char **argv);

#endif
