/* What JavaScript tells HTTP/2 connections (serve, answer a stream, open a tunnel, go away), and
 * the once-a-second tick: PING keepalive, the control-frame budget, idle and refused connections. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "h2.h"

#define KEEPALIVE_INTERVAL_MS 10000
#define KEEPALIVE_TIMEOUT_MS 20000
/* a connection told ENHANCE_YOUR_CALM that does not take its GOAWAY within this is cut, and a
 * closing one whose peer does not close its side within this is closed anyway */
#define CALM_GRACE_MS 1000

static int watch_plain(h2_stream *st, int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* a tunnel's bytes go out as they come */
  st->plain.fd = fd;
  st->plain.readable = st->plain.writable = 1;
  return conn_watch(st->s->c, &st->plain);
}

/* accept: the app answered; 200, and the stream's bytes go to `fd` from now on. */
void h2_stream_accept(h2_session *s, int32_t id, int fd) {
  h2_stream *st = nghttp2_session_get_stream_user_data(s->ng, id);
  if (!st || st->state != HS_AWAIT || st->closed) {
    close(fd); /* the stream ended meanwhile: JavaScript hears (or heard) of it */
    return;
  }
  if (watch_plain(st, fd) != 0) {
    nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
    return;
  }
  st->state = HS_OPEN;
  nghttp2_nv status = {(uint8_t *)":status", (uint8_t *)"200", 7, 3, NGHTTP2_NV_FLAG_NONE};
  nghttp2_data_provider source = h2_stream_source(st);
  if (nghttp2_submit_response(s->ng, id, &status, 1, &source) != 0)
    nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
}

/* refuse: the answer ends the stream (400, 401, 503); no byte reaches an app. */
void h2_stream_refuse(h2_session *s, int32_t id, int status) {
  h2_stream *st = nghttp2_session_get_stream_user_data(s->ng, id);
  if (!st || st->state != HS_AWAIT || st->closed) return;
  char text[4];
  snprintf(text, sizeof text, "%03d", status >= 100 && status <= 599 ? status : 503);
  nghttp2_nv nv = {(uint8_t *)":status", (uint8_t *)text, 7, 3, NGHTTP2_NV_FLAG_NONE};
  st->discard = 1;
  free(st->up_buf);
  st->up_buf = NULL;
  st->up_off = st->up_len = st->up_cap = 0;
  /* once the answer is sent, RST_STREAM NO_ERROR follows (h2_callbacks.c) */
  if (nghttp2_submit_response(s->ng, id, &nv, 1, NULL) != 0)
    nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
}

/* open (client): CONNECT `authority` with the given fields; bytes flow once the answer is 2xx. */
void h2_stream_open(h2_session *s, double tag, const char *fields, size_t len, int fd) {
  nghttp2_nv nva[16];
  size_t n = 0;
  nva[n++] = (nghttp2_nv){(uint8_t *)":method", (uint8_t *)"CONNECT", 7, 7, NGHTTP2_NV_FLAG_NONE};
  /* fields: authority, then name and value pairs, each NUL-terminated */
  const char *at = fields, *end = fields + len;
  const char *parts[31];
  size_t count = 0;
  while (at < end && count < 31) {
    size_t l = strnlen(at, (size_t)(end - at));
    parts[count++] = at;
    at += l + 1;
  }
  h2_stream *st = h2_stream_new(s, 0);
  st->tag = tag;
  st->state = HS_AWAIT;
  st->borrowed = 1;
  st->reported = 1;
  if (count == 0 || count % 2 == 0) {
    close(fd);
    h2_stream_release(st, REASON_REJECTED);
    return;
  }
  nva[n++] = (nghttp2_nv){(uint8_t *)":authority", (uint8_t *)parts[0], 10, strlen(parts[0]), NGHTTP2_NV_FLAG_NONE};
  for (size_t i = 1; i + 1 < count && n < 16; i += 2)
    nva[n++] = (nghttp2_nv){(uint8_t *)parts[i], (uint8_t *)parts[i + 1], strlen(parts[i]), strlen(parts[i + 1]),
                            NGHTTP2_NV_FLAG_NONE};
  nghttp2_data_provider source = h2_stream_source(st);
  int32_t id = nghttp2_submit_request(s->ng, NULL, nva, n, &source, st);
  if (id < 0 || watch_plain(st, fd) != 0) {
    if (st->plain.fd < 0) close(fd);
    if (id >= 0) nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    else h2_stream_release(st, REASON_REJECTED); /* e.g. after GOAWAY: JavaScript opens elsewhere */
    return;
  }
  st->id = id;
}

static void command_on_session(worker *w, command *cmd) {
  h2_session *s = h2_lookup(w, cmd->js_id);
  if (!s || s->c->state == ST_CLOSED) {
    if (cmd->fd >= 0) close(cmd->fd);
    if (cmd->type == CMD_H2_OPEN) {
      /* the connection is gone: JavaScript hears that this tunnel never opened */
      event ev = {.type = EV_H2_STREAM_CLOSED, .js_id = cmd->js_id, .tag = cmd->tag, .worker = w->index,
                  .reason = REASON_RESET};
      events_push(w, &ev);
    }
    return;
  }
  if (cmd->type == CMD_H2_ACCEPT) h2_stream_accept(s, cmd->stream, cmd->fd);
  else if (cmd->type == CMD_H2_REFUSE) h2_stream_refuse(s, cmd->stream, cmd->status);
  else if (cmd->type == CMD_H2_OPEN) h2_stream_open(s, cmd->tag, cmd->fields, cmd->fields_len, cmd->fd);
  else if (cmd->type == CMD_H2_RESET) nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, cmd->stream, NGHTTP2_CANCEL);
  else if (cmd->type == CMD_H2_GOAWAY && !s->goaway_sent) {
    /* open streams may finish; no new one starts */
    s->goaway_sent = 1;
    nghttp2_submit_goaway(s->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(s->ng),
                          NGHTTP2_NO_ERROR, NULL, 0);
  }
  conn_mark_dirty(s->c);
}

void h2_command(worker *w, command *cmd) {
  if (cmd->type == CMD_H2_SERVE || cmd->type == CMD_H2_CLIENT) {
    /* like CMD_ACCEPT: the connection awaits this decision, so it is still here */
    if (cmd->c->state == ST_AWAIT_DECISION) {
      h2_session_start(cmd->c, cmd->type == CMD_H2_CLIENT, cmd->status, cmd->slot, cmd->fields);
      cmd->fields = NULL; /* the peer's SPIFFE ID: the session's now */
    }
  } else {
    command_on_session(w, cmd);
  }
  free(cmd->fields);
  cmd->fields = NULL;
}

/* Why the session must end now, or NULL; sends the keepalive PING when one is due. */
static const char *tick_session(h2_session *s, uint64_t now, close_reason *reason) {
  conn *c = s->c;
  engine *e = c->w->engine;
  s->control_strikes = s->control_frames > H2_CONTROL_FRAMES_PER_SECOND ? s->control_strikes + 1 : 0;
  s->control_frames = 0;
  if (s->control_strikes >= 2) h2_session_calm(s, "control-frame-flood: control frames over the budget");
  *reason = s->closing_since ? s->end_reason : REASON_CALM;
  if (s->closing_since && now - s->closing_since > CALM_GRACE_MS) return c->detail;
  if (s->calm && now - s->calm_at > CALM_GRACE_MS) return c->detail;
  *reason = REASON_REJECTED;
  if (s->denied && e->handshake_timeout_ms && now - s->born > e->handshake_timeout_ms)
    return "a refused peer's connection ends soon";
  h2_dial_timeouts(s, now);
  *reason = REASON_KEEPALIVE;
  if (s->ping_sent_at && now - s->ping_sent_at > KEEPALIVE_TIMEOUT_MS) return "the peer did not answer a PING in time";
  if (!s->ping_sent_at && now - s->last_ping >= KEEPALIVE_INTERVAL_MS) {
    s->ping_sent_at = s->last_ping = now;
    nghttp2_submit_ping(s->ng, NGHTTP2_FLAG_NONE, NULL);
    conn_mark_dirty(c);
  }
  if (s->n_streams == 0 && e->h2_idle_ms && now - s->idle_since >= e->h2_idle_ms && !s->goaway_sent) {
    s->goaway_sent = 1;
    nghttp2_session_terminate_session(s->ng, NGHTTP2_NO_ERROR);
    conn_mark_dirty(c);
  }
  return NULL;
}

/* Every loop iteration: dead streams are freed (their sides may have been in this batch); once a
 * second, every session is ticked; when the thread stops, the rest goes. */
void h2_tick(worker *w) {
  h2_worker *hw = w->h2;
  if (!hw) return;
  while (hw->dead) {
    h2_stream *st = hw->dead;
    hw->dead = st->dead_next;
    free(st);
  }
  if (w->stopping) {
    if (!hw->sessions) { /* the last call, after every connection closed */
      free(hw);
      w->h2 = NULL;
    }
    return;
  }
  if (w->now - hw->last_tick < 1000) return;
  hw->last_tick = w->now;
  for (h2_session *s = hw->sessions, *next; s; s = next) {
    next = s->next;
    close_reason reason;
    char why[160];
    const char *end = tick_session(s, w->now, &reason);
    if (!end) continue;
    snprintf(why, sizeof why, "%s", end);
    conn_close(s->c, reason, 0, why);
  }
  /* conn_close above may have ended streams: free them with the next iteration's */
}
