/* The zone's pid 1: reaps every orphan, forwards termination signals to the main process and
 * exits with its status (128+N when it was killed by signal N).
 *
 * Once the main process is forked, pid 1 becomes zonectl-init (zinit.c), a copy of itself
 * built without a C library: a page or two per zone where this helper, static glibc, keeps
 * ~650 KB resident. It is exec'd from a sealed memfd (so /proc/1/exe is no host file); where
 * it cannot be (an architecture without its stub, a host that forbids exec of memfds), pid 1
 * stays this helper and runs init_run. */
#ifndef ZONECTL_INIT_H
#define ZONECTL_INIT_H

#include <sys/types.h>

/* A sealed, close-on-exec memfd holding zonectl-init (read from beside this executable), made
 * once by the supervisor; -1 when there is none. */
int init_image(void);

/* In pid 1, with every signal blocked: exec zonectl-init from `image` for `main_pid`; it closes
 * `gate` once it can no longer be reached into. Returns only when the exec failed. */
void init_exec(int image, pid_t main_pid, int gate);

void init_run(pid_t main_pid) __attribute__((noreturn));

#endif
