/* What a TLS peer may send once the handshake is done. TLS 1.3 lets a peer send KeyUpdate
 * messages and records with little or no application data at will, and each costs a key
 * derivation or a decryption: without limits one connection keeps a thread busy. OpenSSL's
 * message callback sees every record (its inner content type) and every handshake message as it
 * is read, inside SSL_read, so a KeyUpdate flood is counted even when SSL_read never returns.
 * - KeyUpdates: at most key_updates_per_minute in a window of a minute;
 * - records carrying no application data (KeyUpdates, alerts, empty or padding-only data
 *   records): a leaky bucket, empty_records_per_second with a burst of empty_record_burst. Every
 *   record counts one; every byte of application data SSL_read returns pays one back, so records
 *   that carry data, however little, leave nothing (fairness bounds those: tls_relay.c).
 * Crossing either closes the connection (reset, REASON_TLS_FLOOD): the callback marks it and
 * shuts the socket's read side, so SSL_read stops at the records already buffered. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/socket.h>

#include "engine.h"

static void flood(conn *c, const char *why) {
  if (c->flood) return;
  c->flood = 1;
  snprintf(c->detail, sizeof c->detail, "%s", why);
  shutdown(c->a.fd, SHUT_RD); /* SSL_read ends at the next socket read: EOF */
}

static void empty_leak(conn *c) {
  engine *e = c->w->engine;
  uint64_t now = c->w->now;
  uint64_t paid = (now - c->empty_at) * e->empty_records_per_second / 1000u;
  if (paid == 0) return; /* keep the fraction: leak again once a whole record is paid */
  c->empty_debt = c->empty_debt > paid ? c->empty_debt - paid : 0;
  c->empty_at = now;
}

static void on_record(conn *c) {
  engine *e = c->w->engine;
  if (!e->empty_records_per_second) return;
  empty_leak(c);
  if (++c->empty_debt > e->empty_record_burst) {
    char why[128];
    snprintf(why, sizeof why, "empty-records: more than %u a second (burst %u) carrying no application data",
             e->empty_records_per_second, e->empty_record_burst);
    flood(c, why);
  }
}

static void on_key_update(conn *c) {
  engine *e = c->w->engine;
  if (!e->key_updates_per_minute) return;
  if (c->w->now - c->key_update_window >= 60000u) {
    c->key_update_window = c->w->now;
    c->key_updates = 0;
  }
  if (++c->key_updates > e->key_updates_per_minute) {
    char why[96];
    snprintf(why, sizeof why, "key-updates: more than %u in a minute", e->key_updates_per_minute);
    flood(c, why);
  }
}

static void on_message(int write_p, int version, int content_type, const void *buf, size_t len, SSL *ssl,
                       void *arg) {
  (void)version; (void)arg;
  conn *c = SSL_get_app_data(ssl);
  /* not SSL_is_init_finished(): OpenSSL is "in init" while it reads a post-handshake message */
  if (write_p || !c || c->state == ST_HANDSHAKE) return;
  const unsigned char *p = buf;
  if (content_type == SSL3_RT_INNER_CONTENT_TYPE) on_record(c);
  else if (content_type == SSL3_RT_HANDSHAKE && len > 0 && p[0] == SSL3_MT_KEY_UPDATE) on_key_update(c);
}

/* Counts what the peer of this TLS connection sends once its handshake is done. */
void tls_limits_attach(conn *c) {
  SSL_set_app_data(c->ssl, c);
  SSL_set_msg_callback(c->ssl, on_message);
}

/* Application data SSL_read returned: each byte pays back one record. */
void tls_limits_delivered(conn *c, size_t plain) {
  c->empty_debt = c->empty_debt > plain ? c->empty_debt - plain : 0;
}
