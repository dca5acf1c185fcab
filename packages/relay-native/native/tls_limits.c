/* What a TLS peer may send once the handshake is done. TLS 1.3 lets a peer send KeyUpdate
 * messages and records with little or no application data at will, and each costs a key
 * derivation or a decryption: without limits one connection keeps a thread busy. OpenSSL's
 * message callback sees every record (its inner content type) and every handshake message as it
 * is read, inside SSL_read, so a KeyUpdate flood is counted even when SSL_read never returns.
 * - KeyUpdates: at most key_updates_per_minute in a window of a minute;
 * - small records (KeyUpdates, alerts, and application data records carrying fewer than
 *   small_record_bytes): a leaky bucket, small_records_per_second with a burst of
 *   small_record_burst. A record costs SMALL_UNIT parts; each byte of application data it
 *   carries pays one back, so only records under small_record_bytes leave debt.
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

static void small_leak(conn *c) {
  engine *e = c->w->engine;
  uint64_t now = c->w->now;
  uint64_t paid = (now - c->small_at) * e->small_records_per_second * e->small_record_bytes / 1000u;
  c->small_debt = c->small_debt > paid ? c->small_debt - paid : 0;
  c->small_at = now;
}

static void on_record(conn *c) {
  engine *e = c->w->engine;
  if (!e->small_records_per_second) return;
  small_leak(c);
  c->small_debt += e->small_record_bytes;
  if (c->small_debt > (uint64_t)e->small_record_burst * e->small_record_bytes) {
    char why[128];
    snprintf(why, sizeof why, "small-records: more than %u a second (burst %u) with under %u bytes of data each",
             e->small_records_per_second, e->small_record_burst, e->small_record_bytes);
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

/* Application data SSL_read returned: each byte pays back one part of the records' debt. */
void tls_limits_delivered(conn *c, size_t plain) {
  c->small_debt = c->small_debt > plain ? c->small_debt - plain : 0;
}
