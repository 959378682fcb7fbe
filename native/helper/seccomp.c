#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#define X32_BIT 0x40000000u /* __X32_SYSCALL_BIT: x32 calls enter with the native arch */
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "zonectl-helper: no seccomp arch for this target"
#endif

#define CAP(c) (1ULL << (c))
#define NEVER 0ULL

/* Denied unless the zone keeps one of `caps` (Docker's default profile: what a capability
 * re-allows). Most of these also need that capability in the kernel: the filter is a second
 * wall, and it shuts attack surface (parsers, keyrings, io_uring) that needs no capability. */
static const struct { int nr; unsigned long long caps; } DENIED[] = {
  /* kernel keyring, kexec, swap, userfaultfd, io_uring, obsolete calls: never */
  {SYS_add_key, NEVER}, {SYS_keyctl, NEVER}, {SYS_request_key, NEVER},
  {SYS_kexec_load, NEVER}, {SYS_kexec_file_load, NEVER}, {SYS_swapon, NEVER}, {SYS_swapoff, NEVER},
  {SYS_userfaultfd, NEVER}, {SYS_io_uring_setup, NEVER}, {SYS_io_uring_enter, NEVER},
  {SYS_io_uring_register, NEVER}, {SYS_nfsservctl, NEVER},
#if defined(__x86_64__)
  {SYS_uselib, NEVER}, {SYS_ustat, NEVER}, {SYS_sysfs, NEVER}, {SYS__sysctl, NEVER},
  {SYS_create_module, NEVER}, {SYS_get_kernel_syms, NEVER}, {SYS_query_module, NEVER},
  {SYS_iopl, CAP(CAP_SYS_RAWIO)}, {SYS_ioperm, CAP(CAP_SYS_RAWIO)},
#endif
  /* mounts, namespaces, the host name (clone and clone3 are checked below) */
  {SYS_mount, CAP(CAP_SYS_ADMIN)}, {SYS_umount2, CAP(CAP_SYS_ADMIN)},
  {SYS_pivot_root, CAP(CAP_SYS_ADMIN)}, {SYS_move_mount, CAP(CAP_SYS_ADMIN)},
  {SYS_open_tree, CAP(CAP_SYS_ADMIN)}, {SYS_fsopen, CAP(CAP_SYS_ADMIN)},
  {SYS_fsconfig, CAP(CAP_SYS_ADMIN)}, {SYS_fsmount, CAP(CAP_SYS_ADMIN)},
  {SYS_fspick, CAP(CAP_SYS_ADMIN)}, {SYS_mount_setattr, CAP(CAP_SYS_ADMIN)},
  {SYS_setns, CAP(CAP_SYS_ADMIN)}, {SYS_unshare, CAP(CAP_SYS_ADMIN)},
  {SYS_quotactl, CAP(CAP_SYS_ADMIN)}, {SYS_quotactl_fd, CAP(CAP_SYS_ADMIN)},
  {SYS_lookup_dcookie, CAP(CAP_SYS_ADMIN)}, {SYS_fanotify_init, CAP(CAP_SYS_ADMIN)},
  {SYS_sethostname, CAP(CAP_SYS_ADMIN)}, {SYS_setdomainname, CAP(CAP_SYS_ADMIN)},
  {SYS_bpf, CAP(CAP_SYS_ADMIN) | CAP(CAP_BPF)},
  {SYS_perf_event_open, CAP(CAP_SYS_ADMIN) | CAP(CAP_PERFMON)},
  {SYS_syslog, CAP(CAP_SYS_ADMIN) | CAP(CAP_SYSLOG)},
  /* file handles: open_by_handle_at walks past any bind mount (the "shocker" escape) */
  {SYS_open_by_handle_at, CAP(CAP_DAC_READ_SEARCH)}, {SYS_name_to_handle_at, CAP(CAP_DAC_READ_SEARCH)},
  /* modules, reboot, accounting, terminals, NUMA */
  {SYS_init_module, CAP(CAP_SYS_MODULE)}, {SYS_finit_module, CAP(CAP_SYS_MODULE)},
  {SYS_delete_module, CAP(CAP_SYS_MODULE)}, {SYS_reboot, CAP(CAP_SYS_BOOT)},
  {SYS_acct, CAP(CAP_SYS_PACCT)}, {SYS_vhangup, CAP(CAP_SYS_TTY_CONFIG)},
  {SYS_get_mempolicy, CAP(CAP_SYS_NICE)}, {SYS_set_mempolicy, CAP(CAP_SYS_NICE)},
  {SYS_mbind, CAP(CAP_SYS_NICE)}, {SYS_move_pages, CAP(CAP_SYS_NICE)},
  {SYS_set_mempolicy_home_node, CAP(CAP_SYS_NICE)},
  /* other processes' memory */
  {SYS_ptrace, CAP(CAP_SYS_PTRACE)}, {SYS_process_vm_readv, CAP(CAP_SYS_PTRACE)},
  {SYS_process_vm_writev, CAP(CAP_SYS_PTRACE)}, {SYS_kcmp, CAP(CAP_SYS_PTRACE)},
  {SYS_pidfd_getfd, CAP(CAP_SYS_PTRACE)}, {SYS_process_madvise, CAP(CAP_SYS_PTRACE)},
  /* the clock (the host's: there is no time namespace for CLOCK_REALTIME) */
  {SYS_settimeofday, CAP(CAP_SYS_TIME)}, {SYS_clock_settime, CAP(CAP_SYS_TIME)},
  {SYS_adjtimex, CAP(CAP_SYS_TIME)}, {SYS_clock_adjtime, CAP(CAP_SYS_TIME)},
};
#define N_DENIED (sizeof DENIED / sizeof DENIED[0])

/* personality(2) values Docker allows: PER_LINUX, UNAME26, PER_LINUX32, both, and the query. */
static const unsigned PERSONALITIES[] = {0x0, 0x8, 0x20000, 0x20008, 0xffffffff};
#define N_PERSONALITIES (sizeof PERSONALITIES / sizeof PERSONALITIES[0])

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)
#define RET(v) ((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (v)))
/* args are 64 bits; the low word comes first on these (little-endian) targets */
#define LOAD(field) ((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field)))
#define JUMP(op, k, jt, jf) ((struct sock_filter)BPF_JUMP(BPF_JMP | (op) | BPF_K, (k), (jt), (jf)))
#define DENY_PENDING 0xff /* a jt/jf to patch: the jump to the final "deny" */

int seccomp_default(unsigned long long caps, struct zerr *z) {
  struct sock_filter f[N_DENIED + N_PERSONALITIES + 24];
  unsigned n = 0;
  int sys_admin = (caps & CAP(CAP_SYS_ADMIN)) != 0;
  /* the architecture first: syscall numbers mean something else under another ABI
   * (i386 via int 0x80 on x86_64, arm32 on aarch64) */
  f[n++] = LOAD(arch);
  f[n++] = JUMP(BPF_JEQ, ARCH, 1, 0);
  f[n++] = RET(SECCOMP_RET_ERRNO | EPERM);
  f[n++] = LOAD(nr);
#ifdef X32_BIT
  f[n++] = JUMP(BPF_JGE, X32_BIT, DENY_PENDING, 0);
#endif
  for (unsigned i = 0; i < N_DENIED; i++)
    if (!(DENIED[i].caps & caps)) f[n++] = JUMP(BPF_JEQ, (unsigned)DENIED[i].nr, DENY_PENDING, 0);
  if (!sys_admin) {
    /* clone3: its flags live in memory seccomp cannot read; ENOSYS makes libc fall back to clone */
    f[n++] = JUMP(BPF_JEQ, SYS_clone3, 0, 1);
    f[n++] = RET(SECCOMP_RET_ERRNO | ENOSYS);
    /* clone: no new namespaces (the flags are in the low 32 bits of args[0]) */
    f[n++] = JUMP(BPF_JEQ, SYS_clone, 0, 3);
    f[n++] = LOAD(args[0]);
    f[n++] = JUMP(BPF_JSET, NS_FLAGS, DENY_PENDING, 0);
    f[n++] = RET(SECCOMP_RET_ALLOW);
  }
  /* personality: only the harmless values (no READ_IMPLIES_EXEC, no ADDR_NO_RANDOMIZE) */
  f[n++] = JUMP(BPF_JEQ, SYS_personality, 0, (unsigned char)(N_PERSONALITIES + 1));
  f[n++] = LOAD(args[0]);
  for (unsigned i = 0; i < N_PERSONALITIES; i++)
    f[n++] = JUMP(BPF_JEQ, PERSONALITIES[i], (unsigned char)(N_PERSONALITIES - 1 - i), i + 1 == N_PERSONALITIES ? DENY_PENDING : 0);
  f[n++] = RET(SECCOMP_RET_ALLOW);
  unsigned deny = n;
  f[n++] = RET(SECCOMP_RET_ERRNO | EPERM);
  for (unsigned i = 0; i < deny; i++) {
    if (BPF_CLASS(f[i].code) != BPF_JMP) continue;
    if (deny - i - 1 > 0xfe) return zerr_setn(z, E2BIG, "seccomp", "filter too long for a jump");
    if (f[i].jt == DENY_PENDING) f[i].jt = (unsigned char)(deny - i - 1);
    if (f[i].jf == DENY_PENDING) f[i].jf = (unsigned char)(deny - i - 1);
  }
  struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) return zerr_set(z, "seccomp", "default filter");
  return 0;
}
