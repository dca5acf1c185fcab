/* Ending a refused container (see runtime-abort.h). */
#define _GNU_SOURCE
#include "runtime-abort.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json-scan.h"

/* How long each runtime call and the wait for the reap may take, milliseconds. */
#define ABORT_STEP_MS 3000

static void pause_ms(long ms) {
  struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* Runs argv with stdout captured into out (NUL-terminated, at most cap - 1 bytes); its exit status or -1. */
static int run_capture(char *const argv[], char *out, size_t cap) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return -1;
  pid_t child = fork();
  if (child < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return -1;
  }
  if (child == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(pipefd[1], 1);
    if (null >= 0) dup2(null, 2);
    execv(argv[0], argv);
    _exit(127);
  }
  close(pipefd[1]);
  size_t got = 0;
  for (long waited = 0; waited < ABORT_STEP_MS;) {
    struct pollfd p = {.fd = pipefd[0], .events = POLLIN};
    int r = poll(&p, 1, 50);
    if (r == 0) {
      waited += 50;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    ssize_t n = r > 0 ? read(pipefd[0], out + got, cap - 1 - got) : -1;
    if (n <= 0 || (got += (size_t)n) >= cap - 1) break;
  }
  out[got] = '\0';
  close(pipefd[0]);
  int status = -1;
  for (long waited = 0; waitpid(child, &status, WNOHANG) == 0; waited += 20) {
    if (waited >= ABORT_STEP_MS) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      return -1;
    }
    pause_ms(20);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void abort_created(const char *runtime, const char *root, const char *id) {
  char state[65536], status[32], number[32];
  char *state_argv[] = {(char *)runtime, "--root", (char *)root, "state", (char *)id, NULL};
  if (run_capture(state_argv, state, sizeof state) != 0) return;
  js_span doc = {state, strlen(state)}, v;
  if (!js_is_object(state, doc.len) || !js_get(doc, "status", &v) || js_string(v, status, sizeof status) < 0 ||
      strcmp(status, "created") != 0 || !js_get(doc, "pid", &v) || !js_is_number(v) || v.len >= sizeof number)
    return;
  memcpy(number, v.start, v.len);
  number[v.len] = '\0';
  long pid = strtol(number, NULL, 10);
  if (pid <= 1) return;
  char *kill_argv[] = {(char *)runtime, "--root", (char *)root, "kill", (char *)id, "KILL", NULL};
  if (run_capture(kill_argv, state, sizeof state) != 0) return;
  for (long waited = 0; waited < ABORT_STEP_MS && kill((pid_t)pid, 0) == 0; waited += 20) pause_ms(20);
}
