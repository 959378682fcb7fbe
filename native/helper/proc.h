/* Small system helpers shared by the helper's parts, and the parent/child sync protocol. */
#ifndef ZONECTL_PROC_H
#define ZONECTL_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* The messages that cross the helper's pipes. A pipe that reaches EOF without MSG_ERROR means
 * the zone's command was exec'd (the write end is O_CLOEXEC in the process that execs). */
enum msg_type { MSG_READY = 1, MSG_ERROR = 2 };
struct msg {
  int type;
  int pid;               /* MSG_READY: host pid of the zone's init */
  long long started_at;  /* MSG_READY: ms since the epoch */
  struct zerr err;       /* MSG_ERROR */
};
int msg_send(int fd, const struct msg *m);
/* 1 = a message, 0 = EOF, -1 = error */
int msg_recv(int fd, struct msg *m);

int write_all(int fd, const void *buf, size_t n);
int write_file(const char *path, const char *data, struct zerr *z);
long long now_ms(void);    /* CLOCK_REALTIME */
long long mono_ms(void);   /* CLOCK_MONOTONIC */
/* Field 22 of /proc/PID/stat (clock ticks since boot); 0 when the process does not exist. */
unsigned long long proc_starttime(pid_t pid);
/* Open /dev/null onto 0, 1 and 2. */
int null_stdio(struct zerr *z);

#endif
