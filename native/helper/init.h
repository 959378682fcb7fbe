/* The zone's pid 1: reaps every orphan, forwards termination signals to the main process and
 * exits with its status (128+N when it was killed by signal N). */
#ifndef ZONECTL_INIT_H
#define ZONECTL_INIT_H

#include <sys/types.h>

void init_run(pid_t main_pid) __attribute__((noreturn));

#endif
