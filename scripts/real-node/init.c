/*
 * PID 1 of a real node's guest (scripts/real-node.sh builds it with gcc -static into the guest's
 * root file system as /sbin/sharedipc-init). It starts the node's boot script, reaps every process
 * that is re-parented to it (containerd's shims, exited containers' children), and powers the guest
 * off when the boot script ends: a guest whose kubelet supervisor is gone is no node any more, and
 * scripts/real-node.sh sees qemu exit instead of a guest that hangs.
 * SIGTERM (`kill 1` from the node shell, real-node.sh stop) asks every process to stop, waits up to
 * 10 s, syncs and powers off: a clean shutdown. A guest reset is qemu's business, not this file's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_term(int sig) {
  (void)sig;
  stopping = 1;
}

static void power_off(const char *why) {
  fprintf(stderr, "sharedipc-init: %s; stopping every process and powering off\n", why);
  kill(-1, SIGTERM);
  for (int i = 0; i < 100; i++) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    if (kill(-1, 0) == -1 && errno == ESRCH) break;
    struct timespec t = {0, 100 * 1000 * 1000};
    nanosleep(&t, NULL);
  }
  kill(-1, SIGKILL);
  sync();
  reboot(RB_POWER_OFF);
}

int main(int argc, char **argv) {
  const char *boot = argc > 1 ? argv[1] : "/usr/local/sbin/sharedipc-node-boot";
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  pid_t child = fork();
  if (child == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    execl(boot, boot, (char *)NULL);
    fprintf(stderr, "sharedipc-init: cannot run %s: %s\n", boot, strerror(errno));
    _exit(127);
  }
  for (;;) {
    int status;
    pid_t pid = waitpid(-1, &status, 0);
    if (stopping) power_off("SIGTERM");
    if (pid == child) {
      char why[96];
      snprintf(why, sizeof why, "the boot script exited (status %d)",
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      power_off(why);
    }
    if (pid == -1 && errno == ECHILD) power_off("no process left");
  }
}
