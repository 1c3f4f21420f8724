/*
 * How long a v1 cgroup join takes: writing a pid into cgroup.procs (what runc
 * and crun do) against a single-threaded child writing "0" into tasks (what
 * pelagos does, ADR 0007). Creates and removes its own cgroup under the
 * memory hierarchy's pelagos parent.
 *
 *   gcc -O2 -o /tmp/cgroup-join bench/cgroup-join.c && /tmp/cgroup-join
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void join(const char *dir, int procs) {
  for (int i = 0; i < 5; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      char path[512], buf[32];
      snprintf(path, sizeof path, "%s/%s", dir, procs ? "cgroup.procs" : "tasks");
      int fd = open(path, O_WRONLY | O_CLOEXEC);
      int n = procs ? snprintf(buf, sizeof buf, "%d", getpid()) : snprintf(buf, sizeof buf, "0");
      double t0 = now();
      long r = write(fd, buf, n);
      printf("%-13s %s %.3f ms\n", procs ? "cgroup.procs" : "tasks \"0\"", r == n ? "ok" : "FAILED", now() - t0);
      fflush(stdout);
      _exit(0);
    }
    waitpid(pid, 0, 0);
    usleep(50000);
  }
}

int main(void) {
  char dir[256];
  mkdir("/sys/fs/cgroup/memory/pelagos", 0755);
  snprintf(dir, sizeof dir, "/sys/fs/cgroup/memory/pelagos/bench-join-%d", getpid());
  if (mkdir(dir, 0755) != 0) {
    perror(dir);
    return 1;
  }
  join(dir, 0);
  join(dir, 1);
  usleep(100000);
  if (rmdir(dir) != 0) perror(dir);
  return 0;
}
