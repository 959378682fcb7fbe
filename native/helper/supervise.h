/* The supervisor: outside the zone, detached from zonectl (own session, reparented to init).
 * Runs the zone, records its start time and exit code, captures its output to the rotated log,
 * restarts it per policy (backoff 100 ms doubling to 10 s, reset after 10 s of uptime), and
 * on SIGTERM stops it: SIGTERM to the zone's init, SIGKILL after the grace period (read from
 * STATE_DIR/stop_grace_ms when present, so that zonectl's stop decides it even if zonectl dies). */
#ifndef ZONECTL_SUPERVISE_H
#define ZONECTL_SUPERVISE_H

#include "spec.h"

/* The first run's outcome (MSG_READY or MSG_ERROR) is sent on `start_fd`, which is then closed.
 * `go_fd` (>= 0): the first run's command waits for one byte 'g' on it (see zone_main). */
void supervise(const struct spec *s, int start_fd, int go_fd) __attribute__((noreturn));

#endif
