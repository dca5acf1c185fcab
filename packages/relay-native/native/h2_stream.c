/* One tunnel: DATA from the peer is written to the plain socket (the stream's window reopens
 * only for what the socket took), and what the plain socket says becomes DATA (read only while
 * the peer's window allows). The up buffer exists only while the app is slower than the peer. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "h2.h"

h2_stream *h2_stream_new(h2_session *s, int32_t id) {
  h2_stream *st = calloc(1, sizeof *st);
  if (!st) worker_fatal("HTTP/2 stream", ENOMEM);
  st->s = s;
  st->id = id;
  st->plain = (side){.conn = s->c, .fd = -1};
  st->next = s->streams;
  if (s->streams) s->streams->prev = st;
  s->streams = st;
  s->n_streams++;
  s->idle_since = 0;
  return st;
}

/* The stream's header fields into its event (JavaScript has them then: the stream keeps none). */
static void stream_fields(h2_stream *st, event *ev) {
  size_t total = 0;
  for (int i = 0; i < 4; i++) total += st->field_len[i] + 1u;
  ev->fields = malloc(total);
  if (!ev->fields) worker_fatal("HTTP/2 event", ENOMEM);
  for (int i = 0; i < 4; i++) {
    if (st->field_len[i] && st->fields) memcpy(ev->fields + ev->fields_len, st->fields[i], st->field_len[i]);
    ev->fields_len += st->field_len[i];
    ev->fields[ev->fields_len++] = 0;
  }
  free(st->fields);
  st->fields = NULL;
  ev->status = st->field_overflow;
}

static void push_event(h2_stream *st, event_type type, admit_verdict verdict, refuse_code code, int err) {
  conn *c = st->s->c;
  event ev = {.type = type, .js_id = c->js_id, .stream = st->id, .tag = st->tag, .worker = c->w->index,
              .admitted = verdict, .refused = code};
  if (type == EV_H2_STREAM) {
    stream_fields(st, &ev);
    if (err) snprintf(ev.detail, sizeof ev.detail, "%s", strerror(err));
  } else if (type == EV_H2_RESPONSE) {
    ev.status = st->status;
  } else {
    ev.up = st->up_bytes;
    ev.down = st->down_bytes;
    ev.status = (int)st->error_code;
  }
  /* a stream the table refused is over for JavaScript with this event: no close event follows */
  st->reported = verdict != ADMIT_REFUSED;
  events_push(c->w, &ev);
}

void h2_stream_event(h2_stream *st, event_type type) { push_event(st, type, ADMIT_ASK, REFUSE_NONE, 0); }

/* A stream the admission table decided: admitted (its dial connected: relaying) or refused
 * (answered already; `err` the dial's errno when it was the connect that failed). */
void h2_stream_decided_event(h2_stream *st, admit_verdict verdict, refuse_code code, int err) {
  push_event(st, EV_H2_STREAM, verdict, code, err);
}

/* The stream is over for us: the plain socket closes (reset unless the end was clean), JavaScript
 * hears of it if it knew the stream, and the memory goes after this loop iteration. */
void h2_stream_release(h2_stream *st, close_reason reason) {
  h2_session *s = st->s;
  if (st->state == HS_DONE) return;
  if (st->plain.fd >= 0) {
    if (st->plain.registered) epoll_ctl(s->c->w->epfd, EPOLL_CTL_DEL, st->plain.fd, NULL);
    if (reason != REASON_EOF && !st->borrowed) {
      struct linger l = {.l_onoff = 1, .l_linger = 0};
      setsockopt(st->plain.fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(st->plain.fd);
    st->plain.fd = -1;
  }
  if (st->reported) {
    conn *c = s->c;
    event ev = {.type = EV_H2_STREAM_CLOSED, .js_id = c->js_id, .stream = st->id, .tag = st->tag,
                .worker = c->w->index, .up = st->up_bytes, .down = st->down_bytes,
                .status = (int)st->error_code, .reason = reason};
    events_push(c->w, &ev);
  }
  st->state = HS_DONE;
  free(st->up_buf);
  st->up_buf = NULL;
  free(st->fields); /* a stream that ended before its event */
  st->fields = NULL;
  if (st->prev) st->prev->next = st->next; else s->streams = st->next;
  if (st->next) st->next->prev = st->prev;
  if (--s->n_streams == 0) s->idle_since = s->c->w->now;
  atomic_fetch_add(&s->c->w->bytes, st->up_bytes + st->down_bytes);
  st->dead_next = s->c->w->h2->dead;
  s->c->w->h2->dead = st;
}

/* Resets the stream (RST_STREAM) from outside a callback; nghttp2 closes it, we release it. */
void h2_stream_reset(h2_stream *st, uint32_t code) {
  nghttp2_submit_rst_stream(st->s->ng, NGHTTP2_FLAG_NONE, st->id, code);
}

/* Writes buffered DATA to the plain socket; the window reopens by what it took. */
static int flush_up(h2_stream *st) {
  while (st->up_len > st->up_off && st->plain.writable) {
    ssize_t n = write(st->plain.fd, st->up_buf + st->up_off, st->up_len - st->up_off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) { st->plain.writable = 0; break; }
      return -1;
    }
    st->up_off += (size_t)n;
    st->up_bytes += (uint64_t)n;
    conn_touch(st->s->c);
    /* the stream's window reopens by what the app took (the connection's opened on arrival) */
    if (!st->closed) nghttp2_session_consume_stream(st->s->ng, st->id, (size_t)n);
  }
  if (st->up_off == st->up_len) {
    free(st->up_buf); /* only while the app is slower than the peer */
    st->up_buf = NULL;
    st->up_off = st->up_len = st->up_cap = 0;
  }
  return 0;
}

/* Appends to a buffer that grows by doubling (from 64 KiB); the engine stops if memory is out. */
void h2_buffer_append(char **buf, size_t *len, size_t *cap, const void *data, size_t n) {
  if (*len + n > *cap) {
    size_t grown_cap = *cap ? *cap : 64 * 1024;
    while (grown_cap < *len + n) grown_cap *= 2;
    char *grown = realloc(*buf, grown_cap);
    if (!grown) worker_fatal("HTTP/2 buffer", ENOMEM);
    *buf = grown;
    *cap = grown_cap;
  }
  memcpy(*buf + *len, data, n);
  *len += n;
}

/* DATA for the stream (in nghttp2's callback): kept until the plain socket takes it. */
int h2_stream_take_data(h2_stream *st, const uint8_t *data, size_t len) {
  /* written after this read burst (h2_pump): one write for many frames */
  h2_buffer_append(&st->up_buf, &st->up_len, &st->up_cap, data, len);
  return 0;
}

void h2_stream_pump(h2_stream *st) {
  if (st->decide) h2_stream_decide(st);
  if (st->dialing && (st->plain.writable || st->plain.readable)) h2_stream_dialed(st);
  if (st->state != HS_OPEN || st->plain.fd < 0) return;
  if (flush_up(st) != 0) {
    if (st->closed) h2_stream_release(st, REASON_RESET);
    else h2_stream_reset(st, NGHTTP2_CANCEL);
    return;
  }
  if (st->up_len == 0 && st->peer_ended && !st->plain_shut) {
    st->plain_shut = 1;
    shutdown(st->plain.fd, SHUT_WR);
  }
  if (st->deferred && st->plain.readable && !st->closed) {
    st->deferred = 0;
    nghttp2_session_resume_data(st->s->ng, st->id);
  }
  if (st->closed && st->up_len == 0) h2_stream_release(st, st->error_code ? REASON_RESET : REASON_EOF);
}

/* nghttp2 closed the stream: release it now, or once the app has taken what is buffered. */
void h2_stream_closed(h2_stream *st, uint32_t error_code) {
  st->closed = 1;
  st->error_code = error_code;
  if (error_code || st->state != HS_OPEN || st->up_len == 0) {
    h2_stream_release(st, error_code || st->state != HS_OPEN ? REASON_RESET : REASON_EOF);
    return;
  }
  st->peer_ended = 1;
}

/* The data source of a tunnel: reads the plain socket when the peer's window has room. */
static ssize_t source_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                           nghttp2_data_source *source, void *user) {
  (void)ng; (void)id; (void)user;
  h2_stream *st = source->ptr;
  if (st->state != HS_OPEN || !st->plain.readable) {
    st->deferred = 1;
    return NGHTTP2_ERR_DEFERRED;
  }
  for (;;) {
    ssize_t n = read(st->plain.fd, buf, length);
    if (n > 0) {
      st->down_bytes += (uint64_t)n;
      conn_touch(st->s->c);
      return n;
    }
    if (n == 0) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      st->plain.readable = 0;
      st->deferred = 1;
      return NGHTTP2_ERR_DEFERRED;
    }
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
  }
}

nghttp2_data_provider h2_stream_source(h2_stream *st) {
  nghttp2_data_provider p = {.source.ptr = st, .read_callback = source_read};
  return p;
}
