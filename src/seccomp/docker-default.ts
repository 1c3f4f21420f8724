/**
 * Docker's default seccomp profile (moby/moby profiles/seccomp/default.json at commit
 * 00f3d189e420, Apache-2.0), shipped inside the binary. Allow-list: everything not listed
 * fails with EPERM; some calls are allowed only with a capability, a kernel version or an
 * architecture (`includes`/`excludes`).
 *
 * The data is built on first use and kept.
 */
import type { SeccompProfile } from "./profile-schema.ts";

const w = (s: string): string[] => s.trim().split(/\s+/);

/** The JSON document, as moby ships it. */
export function dockerDefaultProfileJson(): Record<string, unknown> {
  const allow = "SCMP_ACT_ALLOW";
  const withCap = (names: string, cap: string) => ({ names: w(names), action: allow, includes: { caps: [cap] } });
  const onArch = (names: string, arches: string[]) => ({ names: w(names), action: allow, includes: { arches } });
  const personality = (value: number) => ({
    names: ["personality"],
    action: allow,
    args: [{ index: 0, value, op: "SCMP_CMP_EQ" }],
  });
  return {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 1,
    archMap: [
      { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
      { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
      { architecture: "SCMP_ARCH_MIPS64", subArchitectures: ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"] },
      { architecture: "SCMP_ARCH_MIPS64N32", subArchitectures: ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"] },
      { architecture: "SCMP_ARCH_MIPSEL64", subArchitectures: ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"] },
      { architecture: "SCMP_ARCH_MIPSEL64N32", subArchitectures: ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"] },
      { architecture: "SCMP_ARCH_S390X", subArchitectures: ["SCMP_ARCH_S390"] },
      { architecture: "SCMP_ARCH_RISCV64", subArchitectures: null },
    ],
    syscalls: [
      { names: w(ALLOWED), action: allow },
      { names: w("process_vm_readv process_vm_writev ptrace"), action: allow, includes: { minKernel: "4.8" } },
      { names: ["socket"], action: allow, args: [{ index: 0, value: 40, op: "SCMP_CMP_NE" }] },
      personality(0),
      personality(8),
      personality(131072),
      personality(131080),
      personality(4294967295),
      onArch("sync_file_range2 swapcontext", ["ppc64le"]),
      onArch("arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls", ["arm", "arm64"]),
      onArch("arch_prctl", ["amd64", "x32"]),
      onArch("modify_ldt", ["amd64", "x32", "x86"]),
      onArch("s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr", ["s390", "s390x"]),
      onArch("riscv_flush_icache", ["riscv64"]),
      withCap("open_by_handle_at", "CAP_DAC_READ_SEARCH"),
      withCap(SYS_ADMIN, "CAP_SYS_ADMIN"),
      {
        names: ["clone"],
        action: allow,
        args: [{ index: 0, value: 2114060288, op: "SCMP_CMP_MASKED_EQ" }],
        excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"] },
      },
      {
        names: ["clone"],
        action: allow,
        args: [{ index: 1, value: 2114060288, op: "SCMP_CMP_MASKED_EQ" }],
        comment: "s390 parameter ordering for clone is different",
        includes: { arches: ["s390", "s390x"] },
        excludes: { caps: ["CAP_SYS_ADMIN"] },
      },
      { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38, excludes: { caps: ["CAP_SYS_ADMIN"] } },
      withCap("reboot", "CAP_SYS_BOOT"),
      withCap("chroot", "CAP_SYS_CHROOT"),
      withCap("delete_module init_module finit_module", "CAP_SYS_MODULE"),
      withCap("acct", "CAP_SYS_PACCT"),
      withCap("kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace", "CAP_SYS_PTRACE"),
      withCap("iopl ioperm", "CAP_SYS_RAWIO"),
      withCap("settimeofday stime clock_settime clock_settime64", "CAP_SYS_TIME"),
      withCap("vhangup", "CAP_SYS_TTY_CONFIG"),
      withCap("get_mempolicy mbind set_mempolicy set_mempolicy_home_node", "CAP_SYS_NICE"),
      withCap("syslog", "CAP_SYSLOG"),
      withCap("bpf", "CAP_BPF"),
      withCap("perf_event_open", "CAP_PERFMON"),
    ],
  };
}

const SYS_ADMIN = `bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount
  mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname
  setns syslog umount umount2 unshare`;

const ALLOWED = `accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
  clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
  clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3
  epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
  eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate
  fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr
  flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate
  ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd getdents getdents64 getegid
  getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp
  getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit
  get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid
  getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl
  io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit
  io_uring_enter io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset
  landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek
  lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir
  mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
  mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget
  msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open
  openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll
  ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64
  pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg
  recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir
  rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
  rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_getaffinity sched_getattr
  sched_getparam sched_get_priority_max sched_get_priority_min sched_getscheduler sched_rr_get_interval
  sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam sched_setscheduler
  sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64
  sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
  setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid
  setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
  setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn
  socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range
  syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64
  timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime
  timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink unlinkat utime utimensat
  utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write writev`;

let cached: SeccompProfile | undefined;

/**
 * Docker's default profile, shared: treat it as read-only. The data is trusted, so it skips the
 * validator (a test checks that validating the JSON gives the same object); argument values
 * become bigint as the schema's output has them.
 */
export function dockerDefaultProfile(): SeccompProfile {
  if (cached) return cached;
  const json = dockerDefaultProfileJson() as unknown as SeccompProfile;
  for (const rule of json.syscalls ?? []) {
    for (const arg of rule.args ?? []) arg.value = BigInt(arg.value);
  }
  cached = json;
  return cached;
}
