/* Plain relay: bytes go socket → pipe → socket with splice(2) and never enter user space. A
 * direction holds a pipe only while bytes are in it; empty pipes go back to the worker's pool. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"

#define SPLICE_FLAGS (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

static int pipe_acquire(conn *c, direction *d) {
  if (d->pipe_r >= 0) return 0;
  worker *w = c->w;
  if (w->n_spare_pipes > 0) {
    w->n_spare_pipes--;
    d->pipe_r = w->spare_pipes[w->n_spare_pipes][0];
    d->pipe_w = w->spare_pipes[w->n_spare_pipes][1];
    return 0;
  }
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return -1;
  /* a larger pipe moves more per splice; the kernel may refuse (pipe-user-pages limits) */
  if (w->engine->pipe_size > 0) (void)fcntl(fds[1], F_SETPIPE_SZ, w->engine->pipe_size);
  d->pipe_r = fds[0];
  d->pipe_w = fds[1];
  return 0;
}

static void pipe_release(conn *c, direction *d) {
  if (d->pipe_r < 0) return;
  worker *w = c->w;
  if (d->in_pipe == 0 && w->n_spare_pipes < 64) {
    w->spare_pipes[w->n_spare_pipes][0] = d->pipe_r;
    w->spare_pipes[w->n_spare_pipes][1] = d->pipe_w;
    w->n_spare_pipes++;
  } else {
    close(d->pipe_r);
    close(d->pipe_w);
  }
  d->pipe_r = d->pipe_w = -1;
  d->in_pipe = 0;
}

/* Nagle holds a small segment back until the peer acknowledges the one before, and the peer may
 * delay that acknowledgement (40 ms on Linux): a request written in two pieces would wait for a
 * timer at the relay. A relay has nothing to gain from holding bytes back (each splice moves all
 * that arrived, and the kernel sets MSG_MORE itself while a pipe still holds more), so both
 * sockets send at once whatever the caller set. A socket that is not TCP has no Nagle to turn off. */
void splice_no_delay(conn *c) {
  int one = 1;
  (void)setsockopt(c->a.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  (void)setsockopt(c->b.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void splice_release_pipes(conn *c) {
  pipe_release(c, &c->up);
  pipe_release(c, &c->down);
}

/* Moves what it can from src to dst. Returns 0, or -1 with errno set when a socket failed. */
static int pump_direction(conn *c, direction *d, side *src, side *dst) {
  for (;;) {
    if (d->in_pipe > 0) {
      if (!dst->writable) return 0;
      ssize_t n = splice(d->pipe_r, NULL, dst->fd, NULL, d->in_pipe, SPLICE_FLAGS);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return -1;
        dst->writable = 0;
        return 0;
      }
      d->in_pipe -= (size_t)n;
      d->bytes += (uint64_t)n;
      conn_touch(c);
      continue;
    }
    if (d->src_eof) {
      pipe_release(c, d);
      if (!d->done) {
        d->done = 1;
        if (shutdown(dst->fd, SHUT_WR) != 0 && errno != ENOTCONN) return -1;
      }
      return 0;
    }
    if (!src->readable) {
      pipe_release(c, d);
      return 0;
    }
    if (pipe_acquire(c, d) != 0) return -1;
    ssize_t n = splice(src->fd, NULL, d->pipe_w, NULL, 1 << 20, SPLICE_FLAGS);
    if (n == 0) d->src_eof = 1;
    else if (n > 0) d->in_pipe = (size_t)n;
    else if (errno == EAGAIN) src->readable = 0;
    else if (errno != EINTR) return -1;
  }
}

void splice_pump(conn *c) {
  if (pump_direction(c, &c->up, &c->a, &c->b) != 0 || pump_direction(c, &c->down, &c->b, &c->a) != 0) {
    conn_close(c, REASON_RESET, errno, NULL);
    return;
  }
  if (c->up.done && c->down.done) conn_close(c, REASON_EOF, 0, NULL);
}
