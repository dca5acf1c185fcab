/* A crash in an engine thread is never silent: the handler names the thread and the signal on
 * stderr, then hands the signal on (to AddressSanitizer's handler, or to the default: the process
 * dies by that signal). Signals on other threads go straight to whoever handled them before. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

static const int GUARDED[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_GUARDED (sizeof GUARDED / sizeof GUARDED[0])
static struct sigaction previous[N_GUARDED];
static __thread int engine_thread = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int slot_of(int sig) {
  for (size_t i = 0; i < N_GUARDED; i++)
    if (GUARDED[i] == sig) return (int)i;
  return -1;
}

static void pass_on(int slot, int sig, siginfo_t *info, void *uctx) {
  struct sigaction *old = &previous[slot];
  if (old->sa_flags & SA_SIGINFO) {
    if (old->sa_sigaction) { old->sa_sigaction(sig, info, uctx); return; }
  } else if (old->sa_handler == SIG_IGN) {
    return;
  } else if (old->sa_handler != SIG_DFL) {
    old->sa_handler(sig);
    return;
  }
  signal(sig, SIG_DFL); /* returning re-runs the faulting instruction: the default action kills */
  if (sig == SIGABRT) raise(sig);
}

static void on_fatal_signal(int sig, siginfo_t *info, void *uctx) {
  int slot = slot_of(sig);
  if (engine_thread >= 0) {
    char msg[200];
    int n = snprintf(msg, sizeof msg,
                     "switchyard relay-native: engine thread %d crashed with %s (address %p); the process stops\n",
                     engine_thread, strsignal(sig), info ? info->si_addr : NULL);
    if (n > 0) (void)!write(2, msg, (size_t)n);
  }
  if (slot >= 0) pass_on(slot, sig, info, uctx);
}

static void install(void) {
  for (size_t i = 0; i < N_GUARDED; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(GUARDED[i], &sa, &previous[i]);
  }
}

void crash_guard_install(void) { pthread_once(&once, install); }

/* Each engine thread gets an alternate signal stack (unless a sanitizer already gave it one), so
 * a stack overflow is reported too. */
static __thread void *own_stack;

void crash_guard_enter_thread(int index) {
  engine_thread = index;
  stack_t current;
  if (sigaltstack(NULL, &current) == 0 && !(current.ss_flags & SS_DISABLE)) return;
  stack_t ss = {.ss_size = 64 * 1024, .ss_flags = 0};
  ss.ss_sp = malloc(ss.ss_size);
  if (ss.ss_sp && sigaltstack(&ss, NULL) == 0) own_stack = ss.ss_sp;
  else free(ss.ss_sp);
}

void crash_guard_leave_thread(void) {
  if (!own_stack) return;
  stack_t off = {.ss_flags = SS_DISABLE};
  sigaltstack(&off, NULL);
  free(own_stack);
  own_stack = NULL;
}
