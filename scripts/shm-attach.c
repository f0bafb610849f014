/* shm-attach: keeps a System V shared memory segment attached, as a process that works on it does,
 * until SIGTERM or SIGINT; it never removes the segment, so when it dies the segment stays behind
 * with nothing attached, as a crashed writer's does. The real-node tests use it (scripts/images.sh
 * puts it in the busybox image as /bin/shm-attach):
 *   shm-attach SIZE [KEY]   create a segment of SIZE bytes (KEY in decimal or 0x hex; without it,
 *                           IPC_PRIVATE; with it, the existing segment of that key if there is
 *                           one), write to every page, print "shmid N", wait. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

static void stop(int sig) {
  (void)sig;
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: shm-attach SIZE [KEY]\n");
    return 2;
  }
  char *end;
  unsigned long size = strtoul(argv[1], &end, 0);
  if (*end != '\0' || size == 0) {
    fprintf(stderr, "shm-attach: SIZE must be a positive number of bytes, not '%s'\n", argv[1]);
    return 2;
  }
  key_t key = IPC_PRIVATE;
  if (argc == 3) {
    key = (key_t)strtol(argv[2], &end, 0);
    if (*end != '\0') {
      fprintf(stderr, "shm-attach: KEY must be a number, not '%s'\n", argv[2]);
      return 2;
    }
  }
  struct sigaction sa = {0};
  sa.sa_handler = stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int id = shmget(key, size, IPC_CREAT | 0600);
  if (id < 0) {
    perror("shm-attach: shmget");
    return 1;
  }
  char *p = shmat(id, NULL, 0);
  if (p == (void *)-1) {
    perror("shm-attach: shmat");
    return 1;
  }
  long page = sysconf(_SC_PAGESIZE);
  for (unsigned long off = 0; off < size; off += (unsigned long)page) p[off] = 1;
  printf("shmid %d\n", id);
  fflush(stdout);
  for (;;) pause();
}
