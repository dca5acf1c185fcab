/* One HTTP/2 connection over the engine's TLS: bytes read are fed to nghttp2, what nghttp2 wants
 * to send is gathered and written as TLS records. nghttp2's callbacks never close the connection
 * (that would free the session under them): they mark it, and the pump closes afterwards. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "h2.h"

/* What one pump gathers before writing: several TLS records per SSL_write. */
#define OUT_CHUNK (64 * 1024)
/* What one pump reads before the DATA goes to the apps (one write each for many frames). */
#define READ_BURST (256 * 1024)

static h2_worker *worker_h2(worker *w) {
  if (!w->h2) w->h2 = calloc(1, sizeof *w->h2);
  if (!w->h2) worker_fatal("HTTP/2 state", ENOMEM);
  return w->h2;
}

static unsigned bucket_of(double js_id) { return (unsigned)((uint64_t)js_id % H2_BUCKETS); }

h2_session *h2_lookup(worker *w, double js_id) {
  if (!w->h2) return NULL;
  for (h2_session *s = w->h2->buckets[bucket_of(js_id)]; s; s = s->bucket_next)
    if (s->c->js_id == js_id) return s;
  return NULL;
}

static void registry_add(h2_session *s) {
  h2_worker *hw = worker_h2(s->c->w);
  unsigned b = bucket_of(s->c->js_id);
  s->bucket_next = hw->buckets[b];
  hw->buckets[b] = s;
  s->next = hw->sessions;
  if (hw->sessions) hw->sessions->prev = s;
  hw->sessions = s;
}

static void registry_remove(h2_session *s) {
  h2_worker *hw = s->c->w->h2;
  h2_session **at = &hw->buckets[bucket_of(s->c->js_id)];
  while (*at && *at != s) at = &(*at)->bucket_next;
  if (*at) *at = s->bucket_next;
  if (s->prev) s->prev->next = s->next; else hw->sessions = s->next;
  if (s->next) s->next->prev = s->prev;
}

/* Starts HTTP/2 on a connection JavaScript accepted: HBONE's SETTINGS and connection window. A
 * server whose client offered no ALPN speaks HTTP/2 by prior knowledge; a client requires h2. */
int h2_session_start(conn *c, int client, int denied, uint32_t stream_slot, char *peer) {
  const unsigned char *alpn = NULL;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
  if (client && !(alpn_len == 2 && memcmp(alpn, "h2", 2) == 0)) {
    free(peer);
    conn_close(c, REASON_PROTOCOL, 0, "the server did not agree on ALPN h2");
    return -1;
  }
  h2_session *s = calloc(1, sizeof *s);
  nghttp2_option *opt = NULL;
  if (!s || nghttp2_option_new(&opt) != 0) worker_fatal("HTTP/2 session", ENOMEM);
  /* windows open only as the plain sockets take the bytes: the app's backpressure reaches the peer */
  nghttp2_option_set_no_auto_window_update(opt, 1);
  s->c = c;
  s->client = client;
  s->denied = denied;
  /* streams decided by the table need the peer and the address the connection arrived on */
  if (!client && stream_slot && peer && *peer && h2_local_address(c->a.fd, &s->local) == 0) {
    s->stream_slot = stream_slot;
    s->peer = peer;
  } else {
    free(peer);
  }
  s->born = s->idle_since = s->last_ping = c->w->now;
  s->reset_window_start = c->w->now;
  int rv = client ? nghttp2_session_client_new2(&s->ng, h2_callbacks(1), s, opt)
                  : nghttp2_session_server_new2(&s->ng, h2_callbacks(0), s, opt);
  nghttp2_option_del(opt);
  if (rv != 0) worker_fatal("HTTP/2 session", ENOMEM);
  nghttp2_settings_entry iv[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, H2_MAX_STREAMS},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_STREAM_WINDOW},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, H2_MAX_FRAME},
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
  };
  nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, client ? 4 : 3);
  nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, H2_CONNECTION_WINDOW);
  /* frames are gathered before each write already: Nagle would only delay the last one */
  int one = 1;
  setsockopt(c->a.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->h2 = s;
  c->kind = KIND_H2;
  c->state = ST_RELAY;
  c->a.readable = c->a.writable = 1; /* what came while JavaScript decided was not read */
  registry_add(s);
  conn_timer_set(c, TIMER_IDLE);
  conn_mark_dirty(c);
  return 0;
}

/* ENHANCE_YOUR_CALM: GOAWAY, then the connection ends once it is flushed (or at the next tick).
 * `why` starts with a stable word and a colon (`rapid-reset-goaway: ...`): JavaScript counts by it. */
void h2_session_calm(h2_session *s, const char *why) {
  if (s->calm) return;
  s->calm = 1;
  s->calm_at = s->c->w->now;
  snprintf(s->c->detail, sizeof s->c->detail, "%s", why);
  nghttp2_session_terminate_session(s->ng, NGHTTP2_ENHANCE_YOUR_CALM);
  conn_mark_dirty(s->c);
}

static void tls_failed(conn *c, int ssl_error) {
  char why[160];
  int err = errno;
  unsigned long e = ERR_peek_last_error();
  if (e) ERR_error_string_n(e, why, sizeof why);
  else snprintf(why, sizeof why, "%s", err ? strerror(err) : "the peer closed the connection");
  ERR_clear_error();
  int reset = ssl_error == SSL_ERROR_SYSCALL && (err == ECONNRESET || err == EPIPE);
  conn_close(c, reset ? REASON_RESET : REASON_TLS_ERROR, err, why);
}

/* TLS → nghttp2. Returns 0, or -1 once the connection is closed. */
static int h2_read(h2_session *s) {
  conn *c = s->c;
  /* a peer that does not read what we send stops being read: nghttp2's queue stays bounded */
  size_t burst = 0;
  while ((c->a.readable || SSL_has_pending(c->ssl)) && !(s->out_len - s->out_off >= OUT_CHUNK && !c->a.writable)) {
    if (burst >= READ_BURST) {
      conn_mark_dirty(c); /* the rest after this burst's DATA went to the apps */
      break;
    }
    ERR_clear_error();
    uint8_t *scratch = c->w->h2->scratch;
    int n = SSL_read(c->ssl, scratch, sizeof c->w->h2->scratch);
    if (n > 0) {
      burst += (size_t)n;
      tls_limits_delivered(c, (size_t)n); /* records that carry frames owe nothing (tls_limits.c) */
      ssize_t r = nghttp2_session_mem_recv(s->ng, scratch, (size_t)n);
      if (r < 0) {
        if (r == NGHTTP2_ERR_FLOODED) conn_close(c, REASON_CALM, 0, "ack-flood: frames that need an answer, unread");
        else conn_close(c, REASON_PROTOCOL, 0, nghttp2_strerror((int)r));
        return -1;
      }
      continue;
    }
    if (c->flood) { conn_close(c, REASON_TLS_FLOOD, 0, c->detail); return -1; }
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ) { c->a.readable = 0; break; }
    if (e == SSL_ERROR_WANT_WRITE) break;
    if (e == SSL_ERROR_ZERO_RETURN) {
      /* close_notify: a clean end only when no tunnel is cut by it */
      conn_close(c, s->n_streams ? REASON_RESET : REASON_EOF, 0, "the peer closed the connection");
      return -1;
    }
    tls_failed(c, e);
    return -1;
  }
  return 0;
}

/* nghttp2 → TLS. Returns 0, or -1 once the connection is closed. */
static int h2_write(h2_session *s) {
  conn *c = s->c;
  for (;;) {
    while (s->out_len - s->out_off < OUT_CHUNK) {
      const uint8_t *data;
      ssize_t n = nghttp2_session_mem_send(s->ng, &data);
      if (n < 0) {
        conn_close(c, REASON_PROTOCOL, 0, nghttp2_strerror((int)n));
        return -1;
      }
      if (n == 0) break;
      h2_buffer_append(&s->out, &s->out_len, &s->out_cap, data, (size_t)n);
    }
    if (s->out_len == s->out_off) {
      free(s->out); /* an idle connection holds no output buffer */
      s->out = NULL;
      s->out_off = s->out_len = s->out_cap = 0;
      return 0;
    }
    if (!c->a.writable) return 0;
    ERR_clear_error();
    int n = SSL_write(c->ssl, s->out + s->out_off, (int)(s->out_len - s->out_off));
    if (n > 0) {
      s->out_off += (size_t)n;
      if (s->out_off == s->out_len) s->out_off = s->out_len = 0;
      continue;
    }
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_WRITE) { c->a.writable = 0; return 0; }
    if (e == SSL_ERROR_WANT_READ) return 0;
    tls_failed(c, e);
    return -1;
  }
}

void h2_pump(conn *c) {
  h2_session *s = c->h2;
  if (s->closing_since) {
    h2_drain_peer(s);
    return;
  }
  if (h2_read(s) != 0) return;
  if (s->calm_pending) h2_session_calm(s, s->calm_pending);
  for (h2_stream *st = s->streams, *next; st; st = next) {
    next = st->next;
    h2_stream_pump(st);
  }
  if (h2_write(s) != 0) return;
  if (!s->closing_since && !nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng) &&
      s->out_len == 0) {
    /* the GOAWAY is out: close_notify and FIN follow, and what the peer still sends is read (not
     * left unread, which would make the close an RST that can destroy the GOAWAY in flight) until
     * it closes too, or for a second at most (h2_commands.c) */
    s->end_reason = s->calm ? REASON_CALM : s->broken ? REASON_PROTOCOL : s->n_streams ? REASON_RESET : REASON_EOF;
    if (!s->calm && !s->broken) snprintf(c->detail, sizeof c->detail, "HTTP/2 connection ended (GOAWAY)");
    s->closing_since = c->w->now ? c->w->now : 1;
    ERR_clear_error();
    (void)SSL_shutdown(c->ssl);
    shutdown(c->a.fd, SHUT_WR);
    h2_drain_peer(s);
  }
}

/* After our GOAWAY: reads and drops what the peer sends until it closes. */
void h2_drain_peer(h2_session *s) {
  conn *c = s->c;
  while (c->a.readable || SSL_has_pending(c->ssl)) {
    ERR_clear_error();
    int n = SSL_read(c->ssl, c->w->h2->scratch, sizeof c->w->h2->scratch);
    if (n > 0) {
      tls_limits_delivered(c, (size_t)n);
      if (s->calm && (s->calm_drained += (size_t)n) > H2_CALM_DRAIN_BYTES) {
        conn_close(c, REASON_CALM, 0, c->detail); /* a flood that goes on after its GOAWAY */
        return;
      }
      continue;
    }
    int e = SSL_get_error(c->ssl, n);
    if (e == SSL_ERROR_WANT_READ) { c->a.readable = 0; return; }
    if (e == SSL_ERROR_WANT_WRITE) return;
    ERR_clear_error();
    conn_close(c, s->end_reason, 0, c->detail);
    return;
  }
}

/* A server connection cut with tunnels open (a drain's deadline, an abort): each tunnel's
 * RST_STREAM goes out first, as far as the socket takes it now, so the peer reads a cut and not the
 * clean end a bare close after GOAWAY looks like. */
static void reset_open_streams(h2_session *s) {
  for (h2_stream *st = s->streams; st; st = st->next)
    if (st->state != HS_DONE) nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_CANCEL);
  const uint8_t *data;
  ssize_t n;
  while ((n = nghttp2_session_mem_send(s->ng, &data)) > 0)
    h2_buffer_append(&s->out, &s->out_len, &s->out_cap, data, (size_t)n);
  if (s->out_len > s->out_off && s->out_len - s->out_off <= INT_MAX) {
    ERR_clear_error();
    (void)SSL_write(s->c->ssl, s->out + s->out_off, (int)(s->out_len - s->out_off));
    ERR_clear_error();
  }
}

/* The connection is closing (conn_close): every tunnel ends with it, reset. */
void h2_release(conn *c, close_reason reason) {
  h2_session *s = c->h2;
  if (reason == REASON_RESET && !s->client && s->streams && c->ssl) reset_open_streams(s);
  while (s->streams) {
    h2_stream_release(s->streams, reason == REASON_EOF ? REASON_RESET : reason);
  }
  registry_remove(s);
  nghttp2_session_del(s->ng);
  free(s->out);
  free(s->peer);
  free(s);
  c->h2 = NULL;
}
