/*
 * pelagos trampoline: every instruction between clone() and execve().
 *
 * A freestanding static executable (no libc, raw syscalls only), embedded in
 * the pelagos binary and run from a sealed memfd, so it is single-threaded from
 * its first instruction and /proc/PID/exe of anything it runs points at a
 * sealed, unwritable file (CVE-2019-5736 class).
 *
 * It computes nothing. TypeScript (src/plan, src/spawn) prepares a plan: a list
 * of operations, most of them "make this syscall with these arguments", with
 * arguments that point into the plan's own data blob or at fds an earlier
 * operation opened ("slots"). This program interprets that list in order.
 *
 * File descriptors on entry:
 *   0,1,2  stdio for the container
 *   3      sync socket to the runtime (stream socketpair, 16-byte messages);
 *          OP_MOVE_SYNC may move it
 *   4      the plan (a memfd), mapped private and relocated in place
 *
 * Messages to the runtime (struct msg): MSG_PID (the child's host pid),
 * MSG_READY (a sync point: the child then waits for one message back),
 * MSG_ERROR (step index + errno; the sender then exits 125/126/127).
 * End of file on the sync socket (it is close-on-exec) means execve succeeded.
 *
 * The layout of struct plan_header and struct op is mirrored in
 * src/spawn/plan-encode.ts; change both together.
 */

typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef int i32;
typedef unsigned short u16;
typedef unsigned char u8;

#if defined(__x86_64__)
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_fstat 5
#define NR_mmap 9
#define NR_rt_sigaction 13
#define NR_rt_sigprocmask 14
#define NR_execve 59
#define NR_exit_group 231
#define NR_kill 62
#define NR_fcntl 72
#define NR_getppid 110
#define NR_prctl 157
#define NR_waitid 247
#define NR_ppoll 271
#define NR_clone3 435
#define NR_close_range 436
#define NR_pidfd_send_signal 424
#define NR_fork 57
#define NR_wait4 61
#define NR_dup3 292
#define NR_openat 257
#define NR_sendto 44
#define NR_sendmsg 46
#define NR_lseek 8
#define NR_writev 20
#define NR_fsync 74
#define NR_setsid 112
#define NR_clock_gettime 228
#define NR_unlinkat 263
#define NR_signalfd4 289
#define NR_renameat2 316
#define NR_rt_sigtimedwait 128
#define NR_clone 56
#define NR_nanosleep 35
#define NR_recvmsg 47
#elif defined(__aarch64__)
#define NR_read 63
#define NR_write 64
#define NR_close 57
#define NR_fstat 80
#define NR_mmap 222
#define NR_rt_sigaction 134
#define NR_rt_sigprocmask 135
#define NR_execve 221
#define NR_exit_group 94
#define NR_kill 129
#define NR_fcntl 25
#define NR_getppid 173
#define NR_prctl 167
#define NR_waitid 95
#define NR_ppoll 73
#define NR_clone3 435
#define NR_close_range 436
#define NR_pidfd_send_signal 424
#define NR_wait4 260
#define NR_dup3 24
#define NR_openat 56
#define NR_sendto 206
#define NR_sendmsg 211
#define NR_lseek 62
#define NR_writev 66
#define NR_fsync 82
#define NR_setsid 157
#define NR_clock_gettime 113
#define NR_unlinkat 35
#define NR_signalfd4 74
#define NR_renameat2 276
#define NR_rt_sigtimedwait 137
#define NR_clone 220
#define NR_nanosleep 101
#define NR_recvmsg 212
#else
#error "unsupported architecture"
#endif

static inline i64 sys6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f) {
#if defined(__x86_64__)
  i64 ret;
  register i64 r10 __asm__("r10") = d;
  register i64 r8 __asm__("r8") = e;
  register i64 r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
#else
  register i64 x8 __asm__("x8") = n;
  register i64 x0 __asm__("x0") = a;
  register i64 x1 __asm__("x1") = b;
  register i64 x2 __asm__("x2") = c;
  register i64 x3 __asm__("x3") = d;
  register i64 x4 __asm__("x4") = e;
  register i64 x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
#endif
}
#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, (i64)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (i64)(a), (i64)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (i64)(a), (i64)(b), (i64)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (i64)(a), (i64)(b), (i64)(c), (i64)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6(n, (i64)(a), (i64)(b), (i64)(c), (i64)(d), (i64)(e), 0)

/* The compiler may emit calls to these even with -ffreestanding. */
void *memset(void *d, int c, unsigned long n) {
  u8 *p = d;
  while (n--) *p++ = (u8)c;
  return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
  u8 *p = d;
  const u8 *q = s;
  while (n--) *p++ = *q++;
  return d;
}

#define PLAN_MAGIC 0x534c4750u /* "PGLS" little-endian */
#define PLAN_VERSION 2

enum {
  OP_SYSCALL = 1,   /* nr, a[0..5]; result stored in slot if slot >= 0 */
  OP_READY = 2,     /* send MSG_READY(a[0]) and wait for one message back */
  OP_CLONE = 3,     /* clone3(flags=a[0], exit_signal=SIGCHLD, cgroup fd=a[2] if a[1]); child jumps to op a[3] */
  OP_REPORT_PID = 4,/* send MSG_PID with the pid of the last clone */
  OP_WAIT_CHILD = 5,/* stay as the child's parent: forward signals, mirror its exit status */
  OP_EXIT = 6,      /* exit_group(a[0]) */
  OP_RESET_SIGNALS = 7, /* every disposition to default, empty mask */
  OP_EXEC = 8,      /* execve each candidate path a[0] (NULL-terminated array) with argv a[1], envp a[2] */
  OP_CLOSE_SYNC = 9,/* close the sync socket (the parent of a running container) */
  OP_JUMP = 10,     /* a[2]: 0 always, 1 if slots[a[0]] >= 0, 2 if slots[a[0]] < 0; to op a[1] */
  OP_WAIT_FD = 11,  /* block reading one byte from slots[a[0]] (OCI start) */
  OP_DEATHSIG = 12, /* prctl(PR_SET_PDEATHSIG, a[0]); a[1]: exit if the parent is no longer the runtime */
  OP_FORK_WAIT = 13,/* run ops a[0]..a[1]-1 in a forked child (a hook), wait for it, go on at op a[2] */
  OP_SEND_FD = 14,  /* sendmsg(slots[a[0]], SCM_RIGHTS slots[a[1]]) */
  OP_MOVE_SYNC = 15,/* move the sync socket to fd a[0] (frees 3.. for preserved fds) */
  OP_SUPERVISE = 16,/* detached parent: a[0] out pipe, a[1] err pipe, a[2] state dir fd, a[3] control fd,
                       a[4] -> {max log bytes, log files kept, cgroup dirs} (see supervise.inc) */
  OP_INIT = 17,     /* become a tiny init: clone; the child goes on with the next op, we forward signals and reap */
  OP_READY_FD = 18, /* like OP_READY(a[0]), but GO carries one SCM_RIGHTS fd: kept in slots[slot] */
};

enum { MSG_PID = 1, MSG_READY = 2, MSG_ERROR = 3, MSG_GO = 4 };

/* flags on an op */
#define F_IGNORE_ERRNO 1u /* ok_errno is tolerated */

struct plan_header {
  u32 magic, version, n_ops, blob_off, blob_len, n_relocs, relocs_off, n_slots;
  u32 runtime_pid; /* written by the runtime just before it sends the plan (plans are cached) */
  u32 reserved;
};

struct op {
  u32 code;
  u32 nr;
  u32 flags;
  i32 ok_errno;
  i32 slot;
  u32 step; /* index reported with errors: names the step in the TS plan */
  u64 a[6];
};

struct msg {
  u32 type;
  u32 step;
  i32 value;
  i32 extra;
};

#define TAG_PTR (1ull << 63)  /* a[i] = blob offset */
#define TAG_SLOT (1ull << 62) /* a[i] = slot index */
#define PLAN_FD 4
#define MAX_SLOTS 1024

static i32 slots[MAX_SLOTS];
static i32 sync_fd = 3;
static i32 last_child = -1;
static u32 cur_step;
static u32 runtime_pid;
static i32 is_child;

static void send_msg(u32 type, u32 step, i32 value, i32 extra) {
  struct msg m = {type, step, value, extra};
  sys6(NR_sendto, sync_fd, (i64)&m, sizeof m, 0x4000 /* MSG_NOSIGNAL */, 0, 0);
}

__attribute__((noreturn)) static void die(u32 step, i32 err) {
  send_msg(MSG_ERROR, step, err, 0);
  /* docker: 126 cannot execute, 127 not found; anything else is the runtime's failure */
  sys1(NR_exit_group, 125);
  __builtin_unreachable();
}

static i64 arg(struct op *o, int i, u8 *blob) {
  u64 v = o->a[i];
  /* exactly one tag bit: a pointer or a slot; both set is a negative number (AT_FDCWD, -1) */
  u64 tags = v & (TAG_PTR | TAG_SLOT);
  if (tags == TAG_PTR) return (i64)(blob + (v & ~TAG_PTR));
  if (tags == TAG_SLOT) return slots[v & ~TAG_SLOT];
  return (i64)v;
}

static i32 wait_go(u32 step) {
  struct msg m;
  i64 n;
  do n = sys3(NR_read, sync_fd, &m, sizeof m);
  while (n == -4);
  /* the runtime went away or said no: nothing may run */
  if (n != (i64)sizeof m || m.type != MSG_GO) sys1(NR_exit_group, 125);
  (void)step;
  return m.value;
}

static void reset_signals(void) {
  /* struct kernel_sigaction { handler, flags, restorer, mask } */
  u64 act[4] = {0, 0, 0, 0};
  for (int s = 1; s <= 64; s++) {
    if (s == 9 || s == 19 || s == 32 || s == 33) continue;
    sys4(NR_rt_sigaction, s, act, 0, 8);
  }
  u64 empty = 0;
  sys4(NR_rt_sigprocmask, 2 /* SIG_SETMASK */, &empty, 0, 8);
}

struct clone_args {
  u64 flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
#define CLONE_INTO_CGROUP 0x200000000ull

/*
 * The parent of a container (OP_WAIT_CHILD): reaps the child and exits with
 * docker's status (its code, or 128+signal). Every signal is blocked here: the
 * runtime forwards signals to the container itself, and a terminal's SIGINT
 * (this process is in the caller's process group, the container has its own
 * session) must not end the wait.
 */
__attribute__((noreturn)) static void wait_child(void) {
  u64 all = ~0ull;
  sys4(NR_rt_sigprocmask, 0 /* SIG_BLOCK */, &all, 0, 8);
  for (;;) {
    i32 info[32];
    memset(info, 0, sizeof info);
    i64 r = sys5(NR_waitid, 1 /* P_PID */, last_child, info, 4 /* WEXITED */, 0);
    if (r == -4) continue;
    if (r < 0) sys1(NR_exit_group, 125);
    i32 code = info[2]; /* si_code */
    i32 status = info[6];
    if (code == 1 /* CLD_EXITED */) sys1(NR_exit_group, status & 0xff);
    sys1(NR_exit_group, 128 + (status & 0x7f));
  }
}

static i64 run_ops(struct op *ops, u32 from, u32 to, u8 *blob);

#include "supervise.inc"

__attribute__((noreturn)) void trampoline_main(void) {
  /* struct stat: st_size is at byte 48 on both x86_64 and aarch64 */
  i64 st[32];
  if (sys2(NR_fstat, PLAN_FD, st) < 0) sys1(NR_exit_group, 125);
  u8 *base = (u8 *)sys6(NR_mmap, 0, st[6], 3 /* RW */, 2 /* MAP_PRIVATE */, PLAN_FD, 0);
  if ((u64)base > (u64)-4096) sys1(NR_exit_group, 125);
  sys1(NR_close, PLAN_FD);
  struct plan_header *h = (struct plan_header *)base;
  if (h->magic != PLAN_MAGIC || h->version != PLAN_VERSION) sys1(NR_exit_group, 125);
  runtime_pid = h->runtime_pid;
  u8 *blob = base + h->blob_off;
  u32 *relocs = (u32 *)(base + h->relocs_off);
  for (u32 i = 0; i < h->n_relocs; i++) {
    u64 *p = (u64 *)(blob + relocs[i]);
    if (*p) *p += (u64)blob;
  }
  for (u32 i = 0; i < MAX_SLOTS; i++) slots[i] = -1;
  struct op *ops = (struct op *)(base + sizeof *h);
  run_ops(ops, 0, h->n_ops, blob);
  sys1(NR_exit_group, 0);
  __builtin_unreachable();
}

static i64 run_ops(struct op *ops, u32 from, u32 to, u8 *blob) {
  for (u32 i = from; i < to; i++) {
    struct op *o = &ops[i];
    cur_step = o->step;
    switch (o->code) {
    case OP_SYSCALL: {
      i64 r = sys6(o->nr, arg(o, 0, blob), arg(o, 1, blob), arg(o, 2, blob), arg(o, 3, blob), arg(o, 4, blob),
                   arg(o, 5, blob));
      if (r < 0 && r > -4096) {
        if ((o->flags & F_IGNORE_ERRNO) && (o->ok_errno == 0 || -r == o->ok_errno)) { /* 0 = any */
          if (o->slot >= 0 && o->slot < MAX_SLOTS) slots[o->slot] = -1;
          break;
        }
        die(o->step, (i32)-r);
      }
      if (o->slot >= 0 && o->slot < MAX_SLOTS) slots[o->slot] = (i32)r;
      break;
    }
    case OP_READY: {
      send_msg(MSG_READY, o->step, (i32)o->a[0], 0);
      i32 len = wait_go(o->step);
      /* a payload may follow GO (the state for startContainer hooks): copy it to slots[a[1]] */
      if (len > 0 && o->a[2]) {
        u8 buf[4096];
        while (len > 0) {
          i64 n = sys3(NR_read, sync_fd, buf, len < (i32)sizeof buf ? len : (i32)sizeof buf);
          if (n <= 0) sys1(NR_exit_group, 125);
          sys3(NR_write, slots[o->a[1]], buf, n);
          len -= (i32)n;
        }
      }
      break;
    }
    case OP_READY_FD: {
      send_msg(MSG_READY, o->step, (i32)o->a[0], 0);
      struct msg m;
      u64 iov[2] = {(u64)&m, sizeof m};
      u64 cbuf[3];
      memset(cbuf, 0, sizeof cbuf);
      u64 mh[7] = {0, 0, (u64)iov, 1, (u64)cbuf, 24, 0};
      i64 n;
      do n = sys3(NR_recvmsg, sync_fd, mh, 0x40000000 /* MSG_CMSG_CLOEXEC */);
      while (n == -4);
      /* the runtime went away, said no, or sent no descriptor: nothing may run */
      if (n != (i64)sizeof m || m.type != MSG_GO || ((i32 *)cbuf)[2] != 1 || ((i32 *)cbuf)[3] != 1) sys1(NR_exit_group, 125);
      if (o->slot >= 0 && o->slot < MAX_SLOTS) slots[o->slot] = ((i32 *)cbuf)[4];
      break;
    }
    case OP_CLONE: {
      struct clone_args ca;
      memset(&ca, 0, sizeof ca);
      ca.flags = o->a[0];
      ca.exit_signal = 17; /* SIGCHLD */
      if (o->a[1]) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (u64)arg(o, 2, blob);
      }
      i64 r = sys2(NR_clone3, &ca, sizeof ca);
      if (r < 0) die(o->step, (i32)-r);
      if (r == 0) {
        is_child = 1;
        i = (u32)o->a[3] - 1;
        break;
      }
      last_child = (i32)r;
      break;
    }
    case OP_REPORT_PID:
      send_msg(MSG_PID, o->step, last_child, 0);
      break;
    case OP_WAIT_CHILD:
      wait_child();
    case OP_SUPERVISE:
      supervise(o, blob);
    case OP_INIT:
      if (mini_init(o) == 0) break; /* the child: go on to exec */
      sys1(NR_exit_group, 125);
      break;
    case OP_EXIT:
      sys1(NR_exit_group, (i64)o->a[0]);
      break;
    case OP_RESET_SIGNALS:
      reset_signals();
      break;
    case OP_EXEC: {
      i64 *cands = (i64 *)arg(o, 0, blob);
      i64 argv = arg(o, 1, blob), envp = arg(o, 2, blob);
      i32 err = 2 /* ENOENT */;
      for (; *cands; cands++) {
        i64 r = sys3(NR_execve, *cands, argv, envp);
        /* remember the most telling error: anything but "not there" */
        if (r != -2 && r != -20 /* ENOTDIR */) err = (i32)-r;
      }
      send_msg(MSG_ERROR, o->step, err, 1);
      sys1(NR_exit_group, err == 2 ? 127 : 126);
      break;
    }
    case OP_MOVE_SYNC: {
      i64 r = sys3(NR_dup3, sync_fd, (i64)o->a[0], 02000000 /* O_CLOEXEC */);
      if (r < 0) die(o->step, (i32)-r);
      sys1(NR_close, sync_fd);
      sync_fd = (i32)o->a[0];
      break;
    }
    case OP_CLOSE_SYNC:
      sys1(NR_close, sync_fd);
      break;
    case OP_JUMP: {
      i32 v = o->a[2] ? slots[o->a[0]] : 0;
      if (o->a[2] == 0 || (o->a[2] == 1 && v >= 0) || (o->a[2] == 2 && v < 0)) i = (u32)o->a[1] - 1;
      break;
    }
    case OP_SEND_FD: {
      /* struct msghdr + one SCM_RIGHTS cmsg carrying one fd */
      u8 data = 0;
      u64 iov[2] = {(u64)&data, 1};
      u64 cbuf[3]; /* cmsghdr {u64 len; i32 level; i32 type} + int fd, padded */
      memset(cbuf, 0, sizeof cbuf);
      cbuf[0] = 20;                       /* CMSG_LEN(sizeof(int)) */
      ((i32 *)cbuf)[2] = 1;               /* SOL_SOCKET */
      ((i32 *)cbuf)[3] = 1;               /* SCM_RIGHTS */
      ((i32 *)cbuf)[4] = slots[o->a[1]];
      u64 mh[7] = {0, 0, (u64)iov, 1, (u64)cbuf, 24, 0};
      i64 r = sys3(NR_sendmsg, slots[o->a[0]], mh, 0x4000);
      if (r < 0) die(o->step, (i32)-r);
      break;
    }
    case OP_WAIT_FD: {
      u8 b;
      i64 n;
      do n = sys3(NR_read, slots[o->a[0]], &b, 1);
      while (n == -4);
      if (n != 1) sys1(NR_exit_group, 125);
      break;
    }
    case OP_DEATHSIG: {
      /* a[1]: 1 = the parent must still be the runtime (the header's pid), 0 = no check */
      i64 ppid = sys0(NR_getppid);
      sys2(NR_prctl, 1 /* PR_SET_PDEATHSIG */, o->a[0]);
      if (o->a[1] && ((u64)ppid != runtime_pid || (u64)sys0(NR_getppid) != runtime_pid)) sys1(NR_exit_group, 125);
      break;
    }
    case OP_FORK_WAIT: {
      struct clone_args ca;
      memset(&ca, 0, sizeof ca);
      ca.exit_signal = 17;
      i64 r = sys2(NR_clone3, &ca, sizeof ca);
      if (r < 0) die(o->step, (i32)-r);
      if (r == 0) {
        run_ops(ops, (u32)o->a[0], (u32)o->a[1], blob);
        sys1(NR_exit_group, 0);
      }
      i32 info[32];
      memset(info, 0, sizeof info);
      i64 w;
      do w = sys5(NR_waitid, 1, r, info, 4, 0);
      while (w == -4);
      if (w < 0) die(o->step, (i32)-w);
      if (info[2] != 1 || info[6] != 0) {
        send_msg(MSG_ERROR, o->step, 0, 2 /* hook failed */ | (info[6] << 8));
        sys1(NR_exit_group, 125);
      }
      i = (u32)o->a[2] - 1; /* continue after the hook's ops */
      break;
    }
    default:
      die(o->step, 22 /* EINVAL */);
    }
  }
  return 0;
}

/* Entry: align the stack and call into C. */
#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n xor %rbp,%rbp\n and $-16,%rsp\n call trampoline_main\n hlt\n");
#else
__asm__(".text\n.global _start\n_start:\n mov x29, #0\n mov x30, #0\n mov x0, sp\n and x0, x0, #-16\n mov sp, x0\n bl trampoline_main\n");
#endif
