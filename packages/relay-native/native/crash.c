/* A crash in an engine thread is never silent: the handler names the thread and the signal on
 * stderr, hands the signal to whoever handled it before (AddressSanitizer's report), then the
 * process dies by that signal, a fault or a signal sent from outside alike. Signals on other
 * threads go to whoever handled them before, or to the default action. */
#define _GNU_SOURCE
#include <pthread.h>
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

/* Dies by `sig` now: its default action, raised on this thread, whatever was installed before.
 * A signal another process sent (kill, tgkill) has no faulting instruction to run again, so
 * returning from the handler would carry on as if nothing happened. */
static void die_by(int sig) {
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  _exit(128 + sig); /* a signal whose default is not to stop (none of ours): stop anyway */
}

/* Calls the handler that was there before ours; returns when it did (or there was none). */
static void call_previous(int slot, int sig, siginfo_t *info, void *uctx) {
  struct sigaction *old = &previous[slot];
  if (old->sa_flags & SA_SIGINFO) {
    if (old->sa_sigaction) old->sa_sigaction(sig, info, uctx);
  } else if (old->sa_handler != SIG_IGN && old->sa_handler != SIG_DFL) {
    old->sa_handler(sig);
  }
}

static void on_fatal_signal(int sig, siginfo_t *info, void *uctx) {
  int slot = slot_of(sig);
  if (engine_thread >= 0) {
    /* An engine thread never recovers: its connections and locks are in an unknown state. What
     * was installed before (AddressSanitizer's report) runs first; then the process stops, as
     * the message says, whether the signal came from a fault or from another process. */
    char msg[200], from[48];
    if (info && info->si_code <= 0) snprintf(from, sizeof from, "sent by process %d", (int)info->si_pid);
    else snprintf(from, sizeof from, "address %p", info ? info->si_addr : NULL);
    int n = snprintf(msg, sizeof msg, "switchyard relay-native: engine thread %d crashed with %s (%s); the process stops\n",
                     engine_thread, strsignal(sig), from);
    if (n > 0) (void)!write(2, msg, (size_t)n);
    if (slot >= 0) call_previous(slot, sig, info, uctx);
    die_by(sig);
  }
  if (slot < 0) return;
  struct sigaction *old = &previous[slot];
  int defaulted = !(old->sa_flags & SA_SIGINFO) && old->sa_handler == SIG_DFL;
  if (defaulted) die_by(sig); /* what the process would have done without this handler */
  call_previous(slot, sig, info, uctx);
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
