/* A worker thread: one epoll loop, the commands JavaScript posts, the timers, and closing. */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

const char *const CLOSE_REASON_NAMES[REASON_COUNT] = {
    "eof", "reset", "idle-timeout", "handshake-timeout", "handshake-failed",
    "identity", "rejected", "engine-closed", "tls-error", "not-tls", "tls-flood",
    "protocol-error", "enhance-your-calm", "keepalive-timeout",
};

/* Invariants the engine cannot continue without: say why, then stop the process. */
void worker_fatal(const char *what, int err) {
  char msg[256];
  int n = snprintf(msg, sizeof msg, "switchyard relay-native: fatal: %s: %s\n", what, strerror(err));
  if (n > 0) (void)!write(2, msg, (size_t)n);
  abort();
}

uint64_t engine_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void timer_unlink(conn *c) {
  if (c->timer_list < 0) return;
  worker *w = c->w;
  if (c->prev) c->prev->next = c->next; else w->timers[c->timer_list].head = c->next;
  if (c->next) c->next->prev = c->prev; else w->timers[c->timer_list].tail = c->prev;
  c->prev = c->next = NULL;
  c->timer_list = -1;
}

/* Puts the connection at the tail of a timer list (-1: no timer); lists stay sorted by activity. */
void conn_timer_set(conn *c, int list) {
  timer_unlink(c);
  if (list < 0) return;
  worker *w = c->w;
  c->last_active = w->now;
  c->timer_list = list;
  c->prev = w->timers[list].tail;
  if (c->prev) c->prev->next = c; else w->timers[list].head = c;
  w->timers[list].tail = c;
}

void conn_touch(conn *c) {
  if (c->timer_list >= 0 && c->last_active != c->w->now) conn_timer_set(c, c->timer_list);
}

int conn_watch(conn *c, side *s) {
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = s};
  (void)c;
  if (epoll_ctl(c->w->epfd, EPOLL_CTL_ADD, s->fd, &ev) != 0) return -1;
  s->registered = 1;
  return 0;
}

static void side_close(worker *w, side *s, int reset) {
  if (s->fd < 0) return;
  /* close() alone leaves the registration behind when another descriptor (Node's, kept as a
   * stand-in) still refers to the socket, and epoll would report a freed connection */
  if (s->registered) epoll_ctl(w->epfd, EPOLL_CTL_DEL, s->fd, NULL);
  s->registered = 0;
  if (reset) {
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  close(s->fd);
  s->fd = -1;
}

/* Ends a connection now: both sockets closed, one event for JavaScript, memory freed after this
 * loop iteration (other events of the same batch may still point at it). */
void conn_close(conn *c, close_reason reason, int err, const char *detail) {
  if (c->state == ST_CLOSED) return;
  worker *w = c->w;
  int reset = reason == REASON_RESET || reason == REASON_TLS_ERROR || reason == REASON_TLS_FLOOD;
  /* a plain socket that never relayed (given with the hand-off) is reset, as JavaScript would */
  int plain_unused = c->state != ST_RELAY;
  c->state = ST_CLOSED;
  timer_unlink(c);
  if (c->h2) h2_release(c, reason);
  side_close(w, &c->a, reset);
  side_close(w, &c->b, reset || plain_unused);
  if (c->kind == KIND_SPLICE) splice_release_pipes(c);
  else relay_tls_free_buffers(c);
  if (c->ssl) {
    SSL_free(c->ssl);
    c->ssl = NULL;
  }
  event ev = {.type = EV_CLOSED, .js_id = c->js_id, .up = c->up.bytes, .down = c->down.bytes, .reason = reason};
  if (detail) snprintf(ev.detail, sizeof ev.detail, "%s", detail);
  else if (err) snprintf(ev.detail, sizeof ev.detail, "%s", strerror(err));
  events_push(w, &ev);
  atomic_fetch_sub(&w->connections, 1);
  atomic_fetch_add(&w->bytes, c->up.bytes + c->down.bytes);
  c->dead_next = w->dead;
  w->dead = c;
  w->trim_pending = 1;
}

void conn_mark_dirty(conn *c) {
  if (c->dirty || c->state == ST_CLOSED) return;
  c->dirty = 1;
  c->dirty_next = c->w->dirty;
  c->w->dirty = c;
}

static void conn_run(conn *c) {
  if (c->state == ST_CLOSED || c->state == ST_AWAIT_DECISION) return;
  if (c->kind == KIND_SPLICE) splice_pump(c);
  else if (c->kind == KIND_H2) h2_pump(c);
  else if (c->state == ST_HANDSHAKE) relay_tls_handshake(c);
  else relay_tls_pump(c);
}

static void command_add(worker *w, conn *c) {
  atomic_fetch_add(&w->connections, 1);
  c->w = w;
  c->timer_list = -1;
  if (c->start_ctx && relay_tls_start(c) != 0) {
    conn_close(c, REASON_TLS_ERROR, 0, "OpenSSL could not start TLS on the socket");
    return;
  }
  /* a TLS connection's plain socket, given with the hand-off, is watched once it relays */
  if (conn_watch(c, &c->a) != 0 || (c->b.fd >= 0 && c->state == ST_RELAY && conn_watch(c, &c->b) != 0)) {
    conn_close(c, REASON_RESET, errno, "the socket could not be watched");
    return;
  }
  conn_timer_set(c, c->state == ST_HANDSHAKE ? TIMER_HANDSHAKE : TIMER_IDLE);
  conn_mark_dirty(c);
}

void conn_start_relay(conn *c, int fd) {
  if (fd >= 0) {
    if (c->b.fd >= 0) close(c->b.fd); /* one given with the hand-off, replaced by JavaScript's answer */
    c->b.fd = fd;
  }
  c->state = ST_RELAY;
  c->b.readable = c->b.writable = 1;
  c->a.readable = c->a.writable = 1; /* events that came while JavaScript decided were not read */
  if (c->b.fd < 0 || conn_watch(c, &c->b) != 0) {
    conn_close(c, REASON_RESET, errno, "the plain socket could not be watched");
    return;
  }
  conn_timer_set(c, TIMER_IDLE);
  conn_mark_dirty(c);
}

/* Resets one connection by its JavaScript id (rare: a drain deadline); a linear scan suffices.
 * A connection awaiting a decision is JavaScript's to reject (its pointer is held there). */
static void command_abort(worker *w, double js_id) {
  for (int list = TIMER_HANDSHAKE; list <= TIMER_IDLE; list++)
    for (conn *c = w->timers[list].head; c; c = c->next)
      if (c->js_id == js_id) {
        conn_close(c, REASON_RESET, 0, "aborted by JavaScript");
        return;
      }
}

/* Test-only: a NULL dereference (sig 0), or a signal sent to this thread alone (as tgkill does). */
static void crash_for_testing(int sig) {
  if (sig > 0) {
    raise(sig);
    return;
  }
  volatile int *nowhere = NULL;
  *nowhere = 1;
}

/* Test-only: the thread stops turning for `ms`, as a thread stuck in a system call would. */
static void stall_for_testing(int ms) {
  struct timespec left = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

static void run_commands(worker *w) {
  uint64_t count;
  (void)!read(w->wakefd, &count, sizeof count);
  pthread_mutex_lock(&w->lock);
  command *cmd = w->cmd_head;
  w->cmd_head = w->cmd_tail = NULL;
  pthread_mutex_unlock(&w->lock);
  while (cmd) {
    command *next = cmd->next;
    switch (cmd->type) {
      case CMD_ADD: command_add(w, cmd->c); break;
      case CMD_ACCEPT: conn_start_relay(cmd->c, cmd->fd); break;
      case CMD_REJECT: conn_close(cmd->c, REASON_REJECTED, 0, "refused by the authorization policy"); break;
      case CMD_ABORT: command_abort(w, cmd->js_id); break;
      case CMD_STOP: w->stopping = 1; break;
      case CMD_CRASH: crash_for_testing(cmd->arg); break;
      case CMD_STALL: stall_for_testing(cmd->arg); break;
      default: h2_command(w, cmd); break;
    }
    free(cmd);
    cmd = next;
  }
}

/* Closes what waited too long; lists are sorted by last activity, so it stops at the first young one. */
static void run_timers(worker *w) {
  uint32_t limits[2] = {w->engine->handshake_timeout_ms, w->engine->idle_timeout_ms};
  close_reason reasons[2] = {REASON_HANDSHAKE_TIMEOUT, REASON_IDLE_TIMEOUT};
  for (int list = 0; list < 2; list++) {
    if (limits[list] == 0) continue;
    conn *c;
    while ((c = w->timers[list].head) && w->now - c->last_active >= limits[list]) {
      /* sniffing and still no byte: a client that waits for the server speaks plain TCP */
      if (c->sniff) conn_close(c, REASON_NOT_TLS, 0, "the client sent nothing within the handshake timeout");
      else conn_close(c, reasons[list], 0, NULL);
    }
  }
}

static void free_dead(worker *w) {
  /* a connection that spent its turn's budget waits on the dirty list: drop it there if it closed */
  if (w->dead)
    for (conn **at = &w->dirty; *at;) {
      if ((*at)->state == ST_CLOSED) *at = (*at)->dirty_next;
      else at = &(*at)->dirty_next;
    }
  while (w->dead) {
    conn *c = w->dead;
    w->dead = c->dead_next;
    admission_request_free(&c->admit_req);
    free(c);
  }
}

/* Every connection, those awaiting a decision too: JavaScript decides nothing once the engine stops. */
static void close_everything(worker *w) {
  for (int list = 0; list < N_CONN_LISTS; list++)
    while (w->timers[list].head) conn_close(w->timers[list].head, REASON_ENGINE_CLOSED, 0, NULL);
}

static void mark_ready(side *s, uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) s->readable = 1;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) s->writable = 1;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  struct epoll_event evs[256];
  char name[16];
  snprintf(name, sizeof name, "swy-engine-%d", w->index);
  pthread_setname_np(pthread_self(), name); /* so a stalled or crashed thread can be named */
  crash_guard_enter_thread(w->index);
  while (!w->stopping) {
    /* connections that used their turn's budget run again at once, after everyone else's events */
    int n = epoll_wait(w->epfd, evs, 256, w->dirty ? 0 : 250);
    if (n < 0 && errno != EINTR) worker_fatal("epoll_wait", errno);
    if (n == 0 && w->trim_pending) {
      /* handshakes leave freed memory spread over the heap: give it back once things are quiet */
      relay_tls_release_spares(w);
#ifndef __SANITIZE_ADDRESS__
      /* Not under AddressSanitizer: glibc's allocator is unused there, and its first malloc_trim
       * sets it up from the calling thread; two engine threads doing that at once left glibc's
       * count of threads on its main arena short, and its check aborted the process at thread exit */
      malloc_trim(0);
#endif
      w->trim_pending = 0;
    }
    w->now = engine_now_ms();
    atomic_store(&w->last_turn_ms, w->now);
    atomic_fetch_add(&w->turns, 1);
    for (int i = 0; i < n; i++) {
      side *s = evs[i].data.ptr;
      if (s == &w->wake_side) { run_commands(w); continue; }
      mark_ready(s, evs[i].events);
      conn_mark_dirty(s->conn);
    }
    /* this turn's connections; one that marks itself again (its budget spent) waits for the next */
    conn *turn = w->dirty;
    w->dirty = NULL;
    while (turn) {
      conn *c = turn;
      turn = c->dirty_next;
      c->dirty = 0;
      conn_run(c);
    }
    run_timers(w);
    free_dead(w);
    h2_tick(w);
    events_flush(w);
  }
  close_everything(w);
  /* connections still waiting for a decision are owned by the pending accept/reject command */
  free_dead(w);
  h2_tick(w);
  events_flush(w);
  for (int i = 0; i < w->n_spare_pipes; i++) {
    close(w->spare_pipes[i][0]);
    close(w->spare_pipes[i][1]);
  }
  relay_tls_release_spares(w);
  crash_guard_leave_thread();
  return NULL;
}

int worker_start(worker *w) {
  w->epfd = epoll_create1(EPOLL_CLOEXEC);
  w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->epfd < 0 || w->wakefd < 0) return -1;
  w->wake_side.fd = w->wakefd;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->wake_side};
  if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &ev) != 0) return -1;
  pthread_mutex_init(&w->lock, NULL);
  w->now = engine_now_ms();
  atomic_store(&w->last_turn_ms, w->now);
  return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? 0 : -1;
}

/* One wake-up per batch: the thread takes the whole queue after reading its eventfd, so a command
 * queued behind others that are still waiting is taken with them (no system call of its own). */
void worker_post(worker *w, command *cmd) {
  cmd->next = NULL;
  pthread_mutex_lock(&w->lock);
  int wake = w->cmd_head == NULL;
  if (w->cmd_tail) w->cmd_tail->next = cmd; else w->cmd_head = cmd;
  w->cmd_tail = cmd;
  pthread_mutex_unlock(&w->lock);
  uint64_t one = 1;
  if (wake) (void)!write(w->wakefd, &one, sizeof one);
}
