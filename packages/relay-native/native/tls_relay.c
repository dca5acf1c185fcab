/* TLS relay: the handshake, then decrypt (TLS socket → plain socket) and encrypt (plain → TLS).
 * Buffers exist only while bytes are in flight; with SSL_MODE_RELEASE_BUFFERS OpenSSL drops its
 * record buffers too, so an idle connection holds the SSL object and nothing else. */
#define _GNU_SOURCE
#include <errno.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"

/* Four full TLS records: one plain read becomes one SSL_write of several records. */
#define RELAY_BUFFER (64 * 1024)
/* What one connection may move in one turn of its thread's loop, each direction: then it waits
 * for the other connections' events (fairness: a peer sending tiny records cannot hold the thread). */
#define TURN_RECORDS 256
#define TURN_BYTES (1024 * 1024)

typedef struct turn_budget {
  int records;
  size_t bytes;
} turn_budget;

/* Spends one read of `n` bytes; false once the turn's budget is gone (the connection runs again next turn). */
static int budget_spend(turn_budget *t, size_t n) {
  t->records--;
  t->bytes = t->bytes > n ? t->bytes - n : 0;
  return t->records > 0 && t->bytes > 0;
}

static void buffer_drop(worker *w, direction *d) {
  if (d->buf && w->n_spare_buffers < (int)(sizeof w->spare_buffers / sizeof w->spare_buffers[0]))
    w->spare_buffers[w->n_spare_buffers++] = d->buf;
  else
    free(d->buf);
  d->buf = NULL;
  d->off = d->len = 0;
}

void relay_tls_free_buffers(conn *c) {
  buffer_drop(c->w, &c->up);
  buffer_drop(c->w, &c->down);
}

void relay_tls_release_spares(worker *w) {
  while (w->n_spare_buffers > 0) free(w->spare_buffers[--w->n_spare_buffers]);
}

static int buffer_ensure(worker *w, direction *d) {
  if (d->buf) return 0;
  d->buf = w->n_spare_buffers > 0 ? w->spare_buffers[--w->n_spare_buffers] : malloc(RELAY_BUFFER);
  return d->buf ? 0 : -1;
}

/* The OpenSSL reason for a failure, or the errno text. */
static void tls_reason(char *out, size_t len, int err) {
  unsigned long e = ERR_peek_last_error();
  if (e) ERR_error_string_n(e, out, len);
  else snprintf(out, len, "%s", err ? strerror(err) : "the peer closed the connection");
  ERR_clear_error();
}

static void tls_fail(conn *c, close_reason reason) {
  char why[160];
  int err = errno;
  tls_reason(why, sizeof why, err);
  conn_close(c, reason, err, why);
}

/* TLS socket → plain socket. Returns 0, or -1 after closing the connection. */
/* One non-blocking write of the decrypted bytes still buffered, before the connection fails; errno
 * (the failure's cause, read by tls_fail) is kept. What the app socket does not take now is lost. */
static void hand_over_before_failing(conn *c, direction *d) {
  int err = errno;
  if (d->len > d->off && c->b.writable) {
    ssize_t n = write(c->b.fd, d->buf + d->off, d->len - d->off);
    if (n > 0) {
      d->off += (size_t)n;
      d->bytes += (uint64_t)n;
    }
  }
  errno = err;
}

static int pump_decrypt(conn *c) {
  direction *d = &c->up;
  turn_budget turn = {TURN_RECORDS, TURN_BYTES};
  for (;;) {
    if (d->len > d->off) {
      if (!c->b.writable) return 0;
      ssize_t n = write(c->b.fd, d->buf + d->off, d->len - d->off);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) { c->b.writable = 0; return 0; }
        conn_close(c, REASON_RESET, errno, NULL);
        return -1;
      }
      d->off += (size_t)n;
      d->bytes += (uint64_t)n;
      conn_touch(c);
      continue;
    }
    d->off = d->len = 0;
    if (d->src_eof) {
      buffer_drop(c->w, d);
      if (!d->done) {
        d->done = 1;
        shutdown(c->b.fd, SHUT_WR);
      }
      return 0;
    }
    if (!c->a.readable && !SSL_has_pending(c->ssl)) { buffer_drop(c->w, d); return 0; }
    if (turn.records <= 0 || turn.bytes == 0) { conn_mark_dirty(c); return 0; } /* the rest next turn */
    if (buffer_ensure(c->w, d) != 0) worker_fatal("relay buffer", ENOMEM);
    while (d->len < RELAY_BUFFER) {
      ERR_clear_error();
      int n = SSL_read(c->ssl, d->buf + d->len, RELAY_BUFFER - (int)d->len);
      if (n > 0 && c->flood) n = 0; /* this read came at or after the record over the limit: dropped */
      if (n > 0) {
        d->len += (size_t)n;
        tls_limits_delivered(c, (size_t)n);
        if (!budget_spend(&turn, (size_t)n)) break;
        continue;
      }
      if (c->flood) { /* what was decrypted before the limit was crossed is authentic: the app gets it */
        hand_over_before_failing(c, d);
        conn_close(c, REASON_TLS_FLOOD, 0, c->detail);
        return -1;
      }
      int e = SSL_get_error(c->ssl, n);
      if (e == SSL_ERROR_WANT_READ) { c->a.readable = 0; break; }
      if (e == SSL_ERROR_WANT_WRITE) break;
      if (e == SSL_ERROR_ZERO_RETURN) { d->src_eof = 1; break; }
      if (e == SSL_ERROR_SYSCALL && errno == ECONNRESET) { conn_close(c, REASON_RESET, errno, NULL); return -1; }
      /* includes EOF without close_notify: a truncation. What was decrypted before it is authentic
       * and the app gets it before the reset, however the records and the FIN fell into reads. */
      hand_over_before_failing(c, d);
      tls_fail(c, REASON_TLS_ERROR);
      return -1;
    }
    if (d->len == 0 && !d->src_eof) { buffer_drop(c->w, d); return 0; }
  }
}

/* Sends close_notify, then FIN: the peer reads the end of this direction, and can still send. */
static int send_close_notify(conn *c) {
  ERR_clear_error();
  int r = SSL_shutdown(c->ssl);
  if (r < 0) {
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_WRITE) { c->a.writable = 0; return 0; }
    if (e == SSL_ERROR_WANT_READ) return 0;
    conn_close(c, REASON_RESET, errno, NULL);
    return -1;
  }
  c->down.done = 1;
  shutdown(c->a.fd, SHUT_WR);
  return 0;
}

/* Plain socket → TLS socket. Returns 0, or -1 after closing the connection. */
static int pump_encrypt(conn *c) {
  direction *d = &c->down;
  turn_budget turn = {TURN_RECORDS, TURN_BYTES};
  for (;;) {
    if (d->len > d->off) {
      ERR_clear_error();
      int n = SSL_write(c->ssl, d->buf + d->off, (int)(d->len - d->off));
      if (n > 0) {
        d->off += (size_t)n;
        d->bytes += (uint64_t)n;
        conn_touch(c);
        continue;
      }
      int e = SSL_get_error(c->ssl, n);
      if (e == SSL_ERROR_WANT_WRITE) { c->a.writable = 0; return 0; }
      if (e == SSL_ERROR_WANT_READ) return 0;
      if (e == SSL_ERROR_SYSCALL && (errno == EPIPE || errno == ECONNRESET)) {
        conn_close(c, REASON_RESET, errno, NULL);
        return -1;
      }
      tls_fail(c, REASON_TLS_ERROR);
      return -1;
    }
    d->off = d->len = 0;
    if (d->src_eof) {
      buffer_drop(c->w, d);
      return d->done ? 0 : send_close_notify(c);
    }
    if (!c->b.readable) { buffer_drop(c->w, d); return 0; }
    if (turn.records <= 0 || turn.bytes == 0) { conn_mark_dirty(c); return 0; } /* the rest next turn */
    if (buffer_ensure(c->w, d) != 0) worker_fatal("relay buffer", ENOMEM);
    ssize_t n = read(c->b.fd, d->buf, RELAY_BUFFER);
    if (n == 0) d->src_eof = 1;
    else if (n > 0) {
      d->len = (size_t)n;
      budget_spend(&turn, (size_t)n);
    }
    else if (errno == EAGAIN) c->b.readable = 0;
    else if (errno != EINTR) { conn_close(c, REASON_RESET, errno, NULL); return -1; }
  }
}

void relay_tls_pump(conn *c) {
  if (pump_decrypt(c) != 0) return;
  if (c->flood) { /* crossed while SSL_read still returned buffered data */
    hand_over_before_failing(c, &c->up);
    conn_close(c, REASON_TLS_FLOOD, 0, c->detail);
    return;
  }
  if (pump_encrypt(c) != 0) return;
  if (c->up.done && c->down.done) conn_close(c, REASON_EOF, 0, NULL);
}

/* The peer's identity and protocol for the handshake event; -1 after closing the connection. */
static int handshake_event(conn *c, event *ev) {
  char why[160] = "";
  if (peer_identity(c->ssl, &ev->spiffe_id, &ev->chain, &ev->chain_len, why, sizeof why) != 0) {
    /* an HBONE server answers it in its protocol (401 per stream): JavaScript hears why */
    if (!h2_answers_identity(c->ssl)) {
      conn_close(c, REASON_IDENTITY, 0, why);
      return -1;
    }
    free(ev->spiffe_id); /* set when only the chain could not be encoded */
    ev->spiffe_id = strdup("");
    snprintf(ev->detail, sizeof ev->detail, "%s", why);
  }
  char protocol[128];
  const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
  const char *group = SSL_group_to_name(c->ssl, SSL_get_negotiated_group(c->ssl));
  snprintf(protocol, sizeof protocol, "%s %s %s", SSL_get_version(c->ssl),
           cipher ? SSL_CIPHER_standard_name(cipher) : "?", group ? group : "?");
  ev->protocol = strdup(protocol);
  ev->resumed = SSL_session_reused(c->ssl);
  return 0;
}

/* Decided here from the admission table: refused (closed), or relaying to the plain socket JavaScript
 * gave with the hand-off; either way JavaScript hears it in the next batch. Returns 1 when decided. */
static int admit_now(conn *c, event *ev) {
  if (!c->admit || !ev->spiffe_id || !ev->spiffe_id[0]) return 0;
  ev->admitted = admission_decide(c->w->engine, &c->admit_req, ev->spiffe_id, &ev->refused);
  /* a decided connection is never JavaScript's to accept or reject: it gets no handle to it */
  if (ev->admitted == ADMIT_REFUSED || (ev->admitted == ADMIT_ACCEPTED && c->b.fd >= 0)) ev->c = NULL;
  if (ev->admitted == ADMIT_REFUSED) {
    char why[96];
    snprintf(why, sizeof why, "refused by the admission table: %s", REFUSE_CODE_NAMES[ev->refused]);
    events_push(c->w, ev);
    conn_close(c, REASON_REJECTED, 0, why);
    return 1;
  }
  if (ev->admitted != ADMIT_ACCEPTED) return 0;
  if (c->b.fd < 0) { /* a server's app is dialed by JavaScript, which then accepts as before */
    ev->admitted = ADMIT_ASK;
    return 0;
  }
  events_push(c->w, ev);
  conn_start_relay(c, -1);
  return 1;
}

static void handshake_done(conn *c) {
  event ev = {.type = EV_HANDSHAKE, .js_id = c->js_id, .c = c};
  if (handshake_event(c, &ev) != 0) return;
  c->w->trim_pending = 1;
  if (admit_now(c, &ev)) return;
  c->state = ST_AWAIT_DECISION;
  conn_timer_set(c, LIST_AWAITING); /* JavaScript's decision timer owns it now */
  events_push(c->w, &ev);
}

int relay_tls_start(conn *c) {
  SSL_CTX *ctx = c->start_ctx;
  c->start_ctx = NULL;
  c->ssl = SSL_new(ctx);
  SSL_CTX_free(ctx); /* the SSL holds its own reference */
  if (!c->ssl || SSL_set_fd(c->ssl, c->a.fd) != 1) return -1;
  if (c->client) {
    SSL_set_connect_state(c->ssl);
    tls_resume_offer(c->ssl, c->a.fd);
  } else {
    SSL_set_accept_state(c->ssl);
  }
  tls_limits_attach(c);
  return 0;
}

/* The TLS record type of a handshake (RFC 8446 5.1): every ClientHello starts with it. */
#define TLS_RECORD_HANDSHAKE 0x16

/* Sniffing: the first byte, peeked (never read). Returns 1 to go on with TLS, 0 to wait for it,
 * -1 after closing the connection (not TLS: Node's descriptor still holds every byte). */
static int sniff_first_byte(conn *c) {
  unsigned char first;
  ssize_t n = recv(c->a.fd, &first, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n <= 0) {
    /* the handshake fails on the end or error below, as without sniffing */
    c->sniff = 0;
    return 1;
  }
  c->sniff = 0;
  if (first == TLS_RECORD_HANDSHAKE) return 1;
  conn_close(c, REASON_NOT_TLS, 0, "the first byte is not a TLS handshake record");
  return -1;
}

/* Whether the peer has shut down its sending side (its FIN is in), even with its data still unread. */
static int peer_has_closed(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLRDHUP};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP)) != 0;
}

void relay_tls_handshake(conn *c) {
  if (c->sniff) {
    int go = sniff_first_byte(c);
    if (go <= 0) return;
  }
  /* No TLS client ends its side before the server has answered its ClientHello: one that did
   * (ClientHello+FIN churn) is closed before the server's costly part (key exchange, signature) is
   * done for nobody. Later a FIN may come with the client's Finished (TLS 1.3: a short request and
   * its end can follow at once), so only a handshake not yet begun is judged. */
  if (SSL_is_server(c->ssl) && SSL_in_before(c->ssl) && peer_has_closed(c->a.fd)) {
    conn_close(c, REASON_HANDSHAKE_FAILED, 0, "the client closed its side during the handshake");
    return;
  }
  ERR_clear_error();
  int r = SSL_do_handshake(c->ssl);
  conn_touch(c);
  if (r == 1) { handshake_done(c); return; }
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
  char why[160];
  long verify = SSL_get_verify_result(c->ssl);
  if (verify != X509_V_OK) {
    snprintf(why, sizeof why, "certificate verification failed: %s", X509_verify_cert_error_string(verify));
    ERR_clear_error();
  } else {
    tls_reason(why, sizeof why, errno);
  }
  conn_close(c, REASON_HANDSHAKE_FAILED, 0, why);
}
