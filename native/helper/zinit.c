/* zonectl-init: the zone's pid 1 once its command runs. Built without a C library (raw
 * system calls, no start files) so that it costs a page or two of memory per zone: the helper
 * it replaces is a static glibc binary, ~650 KB resident per process.
 *
 * The helper's init execs it from a sealed memfd copy (so /proc/1/exe is no host file), with
 * every signal blocked and these arguments:
 *   argv[1]  the main process's pid (in the zone's pid namespace)
 *   argv[2]  a descriptor to close once this process is not dumpable and holds no capability
 *            (the main process waits for that EOF before its own exec: nothing of the zone
 *            runs while pid 1 could still be opened through /proc/1/mem)
 * Then, as init.c: reap every orphan, forward termination signals to the main process, exit
 * with its status (128+N when it was killed by signal N). */

#define SIGHUP 1
#define SIGINT 2
#define SIGQUIT 3
#define SIGUSR1 10
#define SIGUSR2 12
#define SIGTERM 15
#define SIGCHLD 17
#define SIGWINCH 28
#define WNOHANG 1
#define PR_SET_DUMPABLE 4
#define PR_SET_NAME 15

#if defined(__x86_64__)
enum { NR_close = 3, NR_rt_sigtimedwait = 128, NR_kill = 62, NR_wait4 = 61, NR_exit_group = 231, NR_prctl = 157, NR_capset = 126 };
static long sys(long n, long a, long b, long c, long d) {
  long r;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return r;
}
/* The kernel starts us with the stack pointer on argc: hand it to zinit_main. */
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n mov %rsp,%rdi\n and $-16,%rsp\n call zinit_main\n hlt\n");
#elif defined(__aarch64__)
enum { NR_close = 57, NR_rt_sigtimedwait = 137, NR_kill = 129, NR_wait4 = 260, NR_exit_group = 94, NR_prctl = 167, NR_capset = 91 };
static long sys(long n, long a, long b, long c, long d) {
  register long x8 __asm__("x8") = n, x0 __asm__("x0") = a, x1 __asm__("x1") = b, x2 __asm__("x2") = c, x3 __asm__("x3") = d;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
  return x0;
}
__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n and sp, x0, #-16\n bl zinit_main\n brk #0\n");
#else
#error "zonectl-init: no system call stub for this architecture (the helper falls back to its own init)"
#endif

static long number(const char *s) {
  long v = 0;
  if (!s || !*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

static void __attribute__((noreturn)) leave(int code) {
  for (;;) sys(NR_exit_group, code, 0, 0, 0);
}

void __attribute__((noreturn, used)) zinit_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  long main_pid = argc > 1 ? number(argv[1]) : -1;
  long gate = argc > 2 ? number(argv[2]) : -1;
  if (main_pid <= 0) leave(125);
  /* Nothing of the zone may reach into pid 1: not dumpable (no /proc/1/mem, no ptrace), and of
   * the capabilities exec gave back only CAP_KILL (the main process may run as another user:
   * forwarding a signal to it needs it). Only then may the main process go on. */
  if (sys(NR_prctl, PR_SET_DUMPABLE, 0, 0, 0) < 0) leave(125);
  sys(NR_prctl, PR_SET_NAME, (long)"zonectl-init", 0, 0); /* not the memfd's "memfd:zonectl-i" */
  struct { unsigned version; int pid; } hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
  unsigned data[6] = {1u << 5, 1u << 5, 0, 0, 0, 0}; /* effective, permitted, inheritable (low, then high words): CAP_KILL */
  if (sys(NR_capset, (long)&hdr, (long)data, 0, 0) < 0) leave(125);
  if (gate >= 0) sys(NR_close, gate, 0, 0, 0);

  unsigned long all = ~0UL; /* blocked since before exec: delivered to pid 1 without a handler */
  char info[128];            /* siginfo_t */
  for (;;) {
    long sig = sys(NR_rt_sigtimedwait, (long)&all, (long)info, 0, sizeof all);
    if (sig == SIGCHLD) {
      int status;
      long p;
      while ((p = sys(NR_wait4, -1, (long)&status, WNOHANG, 0)) > 0)
        if (p == main_pid) leave((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f));
    } else if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT || sig == SIGUSR1 ||
               sig == SIGUSR2 || sig == SIGWINCH) {
      sys(NR_kill, main_pid, sig, 0, 0);
    }
  }
}
