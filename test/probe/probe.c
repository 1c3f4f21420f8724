/*
 * probe: a static multi-call helper copied into test rootfses as /probe.
 *
 * Integration tests ask the kernel from inside the container through it instead
 * of trusting what the runtime reports. Output is `key=value` lines (or raw text
 * for env/mountinfo/read). Subcommands are listed in usage() and test/README.md.
 *
 * Built by build.ts (and by test/helpers/probe-build.ts when missing):
 *   cc -static -O2 -Wall -o build/probe test/probe/probe.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

static int usage(void) {
  fputs("usage: probe status|fds|sigs|ns|id|cwd|env|hostname|rlimits|umask|tty|cgroup|oom-score|mountinfo\n"
        "       probe syscall NAME [ARGS]   (unshare [FLAGS] mount [SRC DST TYPE] keyctl ptrace reboot\n"
        "                                    personality [V] clone-newuser clone3 [FLAGS] setns chroot\n"
        "                                    swapon init_module bpf userfaultfd io_uring_setup kexec_load syslog)\n"
        "       probe sleep-trap SIG FILE | exit N | kill-self SIG | write FILE TEXT | read FILE\n"
        "       probe stat PATH | epoll-server | stdin-to FILE | to FILE SUBCOMMAND...\n"
        "       probe recvtty SOCKET   (host side of --console-socket)\n", stderr);
  return 2;
}

/* errno names: tests compare names, not numbers, so the output is portable across arches. */
static const char *errname(int e) {
  switch (e) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
    E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS)
    E(EMLINK) E(EPIPE) E(ERANGE) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(EOPNOTSUPP) E(EADDRINUSE)
    E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ECONNREFUSED) E(ECONNRESET) E(ETIMEDOUT)
    E(EHOSTUNREACH) E(EAFNOSUPPORT) E(EPROTONOSUPPORT) E(ENOTSOCK) E(EUSERS) E(ENOKEY)
    E(EDQUOT) E(ENOTCONN) E(EINPROGRESS) E(EALREADY)
#undef E
    default: return NULL;
  }
}

static void print_errno(int e) {
  const char *n = errname(e);
  if (n) printf("errno=%s\n", n);
  else printf("errno=%d\n", e);
}

static int result(long r) {
  if (r < 0) print_errno(errno);
  else puts("ok");
  return 0;
}

static int sig_from_name(const char *s) {
  static const struct { const char *n; int v; } t[] = {
    {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"ILL", SIGILL}, {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"BUS", SIGBUS}, {"FPE", SIGFPE}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
    {"SEGV", SIGSEGV}, {"USR2", SIGUSR2}, {"PIPE", SIGPIPE}, {"ALRM", SIGALRM}, {"TERM", SIGTERM},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG}, {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO}, {"PWR", SIGPWR}, {"SYS", SIGSYS},
  };
  if (s[0] >= '0' && s[0] <= '9') return atoi(s);
  if (strncmp(s, "SIG", 3) == 0) s += 3;
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
    if (strcmp(s, t[i].n) == 0) return t[i].v;
  return -1;
}

/* Prints the named /proc/self/status fields as key=value, tabs squeezed to one space. */
static int status_fields(const char *const *keys) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) { print_errno(errno); return 1; }
  char line[4096];
  while (fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = 0;
    for (const char *const *k = keys; *k; k++) {
      if (strcmp(line, *k) != 0) continue;
      char *v = colon + 1;
      while (*v == ' ' || *v == '\t') v++;
      v[strcspn(v, "\n")] = 0;
      for (char *p = v; *p; p++) if (*p == '\t') *p = ' ';
      size_t n = strlen(v);
      while (n > 0 && v[n - 1] == ' ') v[--n] = 0;
      printf("%s=%s\n", line, v);
    }
  }
  fclose(f);
  return 0;
}

static int cmd_status(void) {
  static const char *const keys[] = {"Pid", "PPid", "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff",
                                     "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Seccomp_filters", NULL};
  return status_fields(keys);
}

static int cmd_sigs(void) {
  static const char *const keys[] = {"SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", NULL};
  return status_fields(keys);
}

static int cmd_umask(void) {
  static const char *const keys[] = {"Umask", NULL};
  return status_fields(keys);
}

static int cat(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { print_errno(errno); return 1; }
  char buf[65536];
  ssize_t n;
  fflush(stdout);
  while ((n = read(fd, buf, sizeof buf)) > 0)
    if (write(1, buf, n) != n) return 1;
  close(fd);
  return n < 0 ? 1 : 0;
}

static int cmd_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) { print_errno(errno); return 1; }
  int self = dirfd(d);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == self) continue;
    char target[4096];
    ssize_t n = readlinkat(self, e->d_name, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = 0;
    printf("%d=%s\n", fd, target);
  }
  closedir(d);
  return 0;
}

static int cmd_ns(void) {
  static const char *const names[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
                                      "time", "time_for_children", "user", "uts", NULL};
  for (const char *const *n = names; *n; n++) {
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "/proc/self/ns/%s", *n);
    if (stat(path, &st) == 0) printf("%s=%llu\n", *n, (unsigned long long)st.st_ino);
  }
  return 0;
}

static int cmd_id(void) {
  gid_t groups[256];
  int n = getgroups(256, groups);
  printf("uid=%u\ngid=%u\neuid=%u\negid=%u\ngroups=", getuid(), getgid(), geteuid(), getegid());
  for (int i = 0; i < n; i++) printf(i ? ",%u" : "%u", groups[i]);
  putchar('\n');
  return 0;
}

static int cmd_rlimits(void) {
  static const struct { const char *n; int r; } t[] = {
    {"RLIMIT_CPU", RLIMIT_CPU}, {"RLIMIT_FSIZE", RLIMIT_FSIZE}, {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_STACK", RLIMIT_STACK}, {"RLIMIT_CORE", RLIMIT_CORE}, {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC}, {"RLIMIT_NOFILE", RLIMIT_NOFILE}, {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_AS", RLIMIT_AS}, {"RLIMIT_LOCKS", RLIMIT_LOCKS}, {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE}, {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    struct rlimit rl;
    if (getrlimit(t[i].r, &rl) != 0) continue;
    printf("%s=", t[i].n);
    if (rl.rlim_cur == RLIM_INFINITY) printf("unlimited "); else printf("%llu ", (unsigned long long)rl.rlim_cur);
    if (rl.rlim_max == RLIM_INFINITY) printf("unlimited\n"); else printf("%llu\n", (unsigned long long)rl.rlim_max);
  }
  return 0;
}

static int cmd_tty(void) {
  int winfd = -1;
  for (int fd = 0; fd <= 2; fd++) {
    int t = isatty(fd);
    printf("isatty%d=%d\n", fd, t);
    if (t) {
      char *name = ttyname(fd);
      printf("ttyname%d=%s\n", fd, name ? name : "");
      if (winfd < 0) winfd = fd;
    }
  }
  if (winfd >= 0) {
    struct winsize ws;
    if (ioctl(winfd, TIOCGWINSZ, &ws) == 0) printf("rows=%u\ncols=%u\n", ws.ws_row, ws.ws_col);
    printf("tpgid=%d\n", (int)tcgetpgrp(winfd));
  }
  int ctty = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
  printf("ctty=%d\n", ctty >= 0);
  if (ctty >= 0) close(ctty);
  printf("sid=%d\npgid=%d\n", (int)getsid(0), (int)getpgid(0));
  return 0;
}

static int cmd_oom_score(void) {
  printf("oom_score_adj=");
  fflush(stdout);
  int r = cat("/proc/self/oom_score_adj");
  printf("oom_score=");
  fflush(stdout);
  return r | cat("/proc/self/oom_score");
}

static const char *trap_file;

static void on_trap(int sig) {
  int fd = open(trap_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    char b[16];
    int n = 0, s = sig;
    char r[8];
    int k = 0;
    do { r[k++] = (char)('0' + s % 10); s /= 10; } while (s && k < 8);
    while (k) b[n++] = r[--k];
    b[n++] = '\n';
    if (write(fd, b, n) < 0) _exit(3);
    close(fd);
  }
  _exit(0);
}

static int cmd_sleep_trap(const char *sig, const char *file) {
  int s = sig_from_name(sig);
  if (s <= 0) return usage();
  trap_file = file;
  struct sigaction sa = {0};
  sa.sa_handler = on_trap;
  sigemptyset(&sa.sa_mask);
  if (sigaction(s, &sa, NULL) != 0) { print_errno(errno); return 1; }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, s);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  puts("ready");
  fflush(stdout);
  for (;;) pause();
}

static int cmd_kill_self(const char *sig) {
  int s = sig_from_name(sig);
  if (s <= 0) return usage();
  signal(s, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, s);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  kill(getpid(), s);
  /* PID 1 of a PID namespace ignores default-action signals, even its own. */
  usleep(100000);
  puts("survived");
  return 111;
}

static int cmd_write(const char *file, const char *text) {
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) { print_errno(errno); return 1; }
  size_t n = strlen(text);
  if (write(fd, text, n) != (ssize_t)n) { print_errno(errno); return 1; }
  if (close(fd) != 0) { print_errno(errno); return 1; }
  puts("ok");
  return 0;
}

static int cmd_stat(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) { print_errno(errno); return 1; }
  const char *type = S_ISDIR(st.st_mode) ? "dir" : S_ISREG(st.st_mode) ? "file" : S_ISLNK(st.st_mode) ? "symlink"
                   : S_ISCHR(st.st_mode) ? "char" : S_ISBLK(st.st_mode) ? "block" : S_ISFIFO(st.st_mode) ? "fifo"
                   : S_ISSOCK(st.st_mode) ? "socket" : "unknown";
  printf("type=%s\nmode=%04o\nuid=%u\ngid=%u\nsize=%lld\nnlink=%lu\nino=%llu\ndev=%u:%u\nrdev=%u:%u\n", type,
         st.st_mode & 07777, st.st_uid, st.st_gid, (long long)st.st_size, (unsigned long)st.st_nlink,
         (unsigned long long)st.st_ino, major(st.st_dev), minor(st.st_dev), major(st.st_rdev), minor(st.st_rdev));
  struct statvfs vfs;
  if (statvfs(path, &vfs) == 0)
    printf("ro=%d\nnosuid=%d\nnodev=%d\nnoexec=%d\n", !!(vfs.f_flag & ST_RDONLY), !!(vfs.f_flag & ST_NOSUID),
           !!(vfs.f_flag & ST_NODEV), !!(vfs.f_flag & ST_NOEXEC));
  struct statfs fs;
  if (statfs(path, &fs) == 0) printf("fstype=0x%lx\n", (unsigned long)fs.f_type);
  return 0;
}

#include "probe-syscall.inc"
#include "probe-epoll.inc"
#include "probe-recvtty.inc"

/* Copies stdin to FILE: an OCI hook gets the container state JSON on stdin. */
static int cmd_stdin_to(const char *file) {
  int out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) { print_errno(errno); return 1; }
  char buf[65536];
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0)
    if (write(out, buf, n) != n) { print_errno(errno); return 1; }
  close(out);
  return n < 0 ? 1 : 0;
}

int main(int argc, char **argv) {
  /* `probe to FILE SUBCOMMAND...`: run SUBCOMMAND with stdout in FILE (for hooks and detached containers). */
  while (argc >= 4 && !strcmp(argv[1], "to")) {
    if (!freopen(argv[2], "w", stdout)) {
      fprintf(stderr, "probe: cannot write \"%s\": %s\n", argv[2], strerror(errno));
      return 1;
    }
    argv[2] = argv[0];
    argv += 2;
    argc -= 2;
  }
  if (argc < 2) return usage();
  const char *c = argv[1];
  if (!strcmp(c, "status")) return cmd_status();
  if (!strcmp(c, "sigs")) return cmd_sigs();
  if (!strcmp(c, "umask")) return cmd_umask();
  if (!strcmp(c, "fds")) return cmd_fds();
  if (!strcmp(c, "ns")) return cmd_ns();
  if (!strcmp(c, "id")) return cmd_id();
  if (!strcmp(c, "rlimits")) return cmd_rlimits();
  if (!strcmp(c, "tty")) return cmd_tty();
  if (!strcmp(c, "oom-score")) return cmd_oom_score();
  if (!strcmp(c, "mountinfo")) return cat("/proc/self/mountinfo");
  if (!strcmp(c, "cgroup")) return cat("/proc/self/cgroup");
  if (!strcmp(c, "epoll-server")) return cmd_epoll_server();
  if (!strcmp(c, "hostname")) {
    char h[256] = {0};
    if (gethostname(h, sizeof h - 1) != 0) { print_errno(errno); return 1; }
    printf("hostname=%s\n", h);
    return 0;
  }
  if (!strcmp(c, "cwd")) {
    char d[4096];
    if (!getcwd(d, sizeof d)) { print_errno(errno); return 1; }
    printf("cwd=%s\n", d);
    return 0;
  }
  if (!strcmp(c, "env")) {
    for (char **e = environ; *e; e++) puts(*e);
    return 0;
  }
  if (!strcmp(c, "syscall") && argc >= 3) return cmd_syscall(argv[2], argc - 3, argv + 3);
  if (!strcmp(c, "sleep-trap") && argc >= 4) return cmd_sleep_trap(argv[2], argv[3]);
  if (!strcmp(c, "exit") && argc >= 3) return atoi(argv[2]);
  if (!strcmp(c, "kill-self") && argc >= 3) return cmd_kill_self(argv[2]);
  if (!strcmp(c, "write") && argc >= 4) return cmd_write(argv[2], argv[3]);
  if (!strcmp(c, "read") && argc >= 3) return cat(argv[2]);
  if (!strcmp(c, "stdin-to") && argc >= 3) return cmd_stdin_to(argv[2]);
  if (!strcmp(c, "recvtty") && argc >= 3) return cmd_recvtty(argv[2]);
  if (!strcmp(c, "stat") && argc >= 3) return cmd_stat(argv[2]);
  return usage();
}
