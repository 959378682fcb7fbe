#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#define X32_BIT 0x40000000
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "zonectl-helper: no seccomp arch for this target"
#endif

/* Kernel facilities a zone has no business with (most also need capabilities it lacks). */
static const int DENIED[] = {
  SYS_acct, SYS_add_key, SYS_bpf, SYS_clock_adjtime, SYS_clock_settime, SYS_delete_module,
  SYS_finit_module, SYS_fsconfig, SYS_fsmount, SYS_fsopen, SYS_fspick, SYS_init_module,
  SYS_io_uring_enter, SYS_io_uring_register, SYS_io_uring_setup, SYS_kcmp, SYS_kexec_file_load,
  SYS_kexec_load, SYS_keyctl, SYS_mount, SYS_mount_setattr, SYS_move_mount, SYS_name_to_handle_at,
  SYS_open_by_handle_at, SYS_open_tree, SYS_perf_event_open, SYS_pivot_root, SYS_quotactl,
  SYS_reboot, SYS_request_key, SYS_setns, SYS_settimeofday, SYS_swapoff, SYS_swapon, SYS_umount2,
  SYS_unshare, SYS_userfaultfd,
#if defined(__x86_64__)
  SYS_ioperm, SYS_iopl, SYS_lookup_dcookie, SYS_sysfs, SYS_uselib, SYS_ustat, SYS__sysctl,
  SYS_create_module, SYS_get_kernel_syms, SYS_query_module, SYS_nfsservctl,
#endif
};

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME)
#define N_DENIED (sizeof DENIED / sizeof DENIED[0])
#define RET(v) ((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, (v)))
#define LOAD(field) ((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field)))

#define JUMP(op, k, jt, jf) ((struct sock_filter)BPF_JUMP(BPF_JMP | (op) | BPF_K, (k), (jt), (jf)))

int seccomp_default(struct zerr *z) {
  struct sock_filter f[N_DENIED + 16];
  unsigned n = 0, list = 0;
  f[n++] = LOAD(arch);
  f[n++] = JUMP(BPF_JEQ, ARCH, 1, 0);
  f[n++] = RET(SECCOMP_RET_ERRNO | EPERM); /* i386 and other ABIs */
  f[n++] = LOAD(nr);
#ifdef X32_BIT
  f[n++] = JUMP(BPF_JGE, X32_BIT, 0, 1);
  f[n++] = RET(SECCOMP_RET_ERRNO | EPERM);
#endif
  list = n;
  for (unsigned i = 0; i < N_DENIED; i++) f[n++] = JUMP(BPF_JEQ, (unsigned)DENIED[i], 0, 0); /* jt patched below */
  /* clone3: its flags live in memory seccomp cannot read; ENOSYS makes libc fall back to clone */
  f[n++] = JUMP(BPF_JEQ, SYS_clone3, 0, 1);
  f[n++] = RET(SECCOMP_RET_ERRNO | ENOSYS);
  /* clone: no new namespaces (the flags are in the low 32 bits of args[0]) */
  f[n++] = JUMP(BPF_JEQ, SYS_clone, 0, 2);
  f[n++] = LOAD(args[0]);
  f[n++] = JUMP(BPF_JSET, NS_FLAGS, 1, 0);
  f[n++] = RET(SECCOMP_RET_ALLOW);
  unsigned deny = n;
  f[n++] = RET(SECCOMP_RET_ERRNO | EPERM);
  for (unsigned i = list; i < list + N_DENIED; i++) f[i].jt = (unsigned char)(deny - i - 1);
  struct sock_fprog prog = {.len = (unsigned short)n, .filter = f};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) return zerr_set(z, "seccomp", "default filter");
  return 0;
}
