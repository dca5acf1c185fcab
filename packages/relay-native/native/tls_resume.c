/* TLS 1.3 session resumption between mesh proxies. A full mutual handshake costs both sides a
 * signature and two chain verifications; a resumed one (PSK with a fresh key exchange, so the
 * same group and forward secrecy) costs neither. Servers issue one stateless ticket per handshake
 * (Node's OpenSSL renews every TLS 1.3 ticket it accepts), encrypted under keys that live in their
 * context only: a rotated certificate or CA bundle is a new context, so older tickets fail and the
 * peer does a full handshake. Clients keep the newest session per destination address in a small
 * table owned by their context (a rotated client certificate starts an empty one). A session is
 * never used, on either side, past RESUME_LIFETIME_S after the full handshake that verified its
 * peer's chain, nor past the notAfter of any certificate of that chain: a session or ticket made
 * on a resumed connection ends when the one it resumed does. */
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "engine.h"

/* How long a ticket or a cached session may be used (haproxy's default session lifetime too). */
#define RESUME_LIFETIME_S 300
/* Destinations a client context remembers; a direct-mapped table: a collision forgets one. */
#define RESUME_SLOTS 1024
#define KEY_LEN 20

typedef struct {
  unsigned char key[KEY_LEN]; /* family (2), port (2), address (4 or 16, zero-padded) */
  SSL_SESSION *session;
} resume_slot;

typedef struct {
  pthread_mutex_t lock;
  resume_slot slots[RESUME_SLOTS];
} resume_cache;

static int ctx_index = -1, ssl_index = -1, expiry_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void cache_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
  (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
  resume_cache *cache = ptr;
  if (!cache) return;
  for (int i = 0; i < RESUME_SLOTS; i++) SSL_SESSION_free(cache->slots[i].session);
  pthread_mutex_destroy(&cache->lock);
  free(cache);
}

static void key_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
  (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
  free(ptr);
}

static void make_indexes(void) {
  ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, cache_free);
  ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, key_free);
  expiry_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, key_free);
}

/* The destination `fd` is connected to, as a cache key; -1 when it has none (not connected). */
static int destination_key(int fd, unsigned char key[KEY_LEN]) {
  struct sockaddr_storage sa;
  socklen_t len = sizeof sa;
  if (getpeername(fd, (struct sockaddr *)&sa, &len) != 0) return -1;
  memset(key, 0, KEY_LEN);
  if (sa.ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;
    memcpy(key + 2, &in->sin_port, 2);
    memcpy(key + 4, &in->sin_addr, 4);
  } else if (sa.ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa;
    memcpy(key + 2, &in6->sin6_port, 2);
    memcpy(key + 4, &in6->sin6_addr, 16);
  } else {
    return -1;
  }
  key[0] = (unsigned char)(sa.ss_family >> 8);
  key[1] = (unsigned char)sa.ss_family;
  return 0;
}

static unsigned slot_of(const unsigned char key[KEY_LEN]) {
  uint32_t h = 2166136261u; /* FNV-1a: addresses are not chosen by an attacker to collide here */
  for (int i = 0; i < KEY_LEN; i++) h = (h ^ key[i]) * 16777619u;
  return h % RESUME_SLOTS;
}

/* Usable now: inside its lifetime (bound_lifetime), and its peer's certificate has not expired. */
static int session_fresh(const SSL_SESSION *s) {
  time_t now = time(NULL);
  if (!s || SSL_SESSION_get_time_ex(s) + (time_t)SSL_SESSION_get_timeout(s) <= now) return 0;
  X509 *peer = SSL_SESSION_get0_peer((SSL_SESSION *)s);
  return peer && X509_cmp_time(X509_get0_notAfter(peer), &now) > 0;
}

/* A session keeps only the peer's leaf: the intermediates and the root the full handshake verified
 * are not checked again when it resumes. So its lifetime ends when the first of them expires. */
static void bound_lifetime(SSL *ssl, SSL_SESSION *session) {
  STACK_OF(X509) *chain = SSL_get0_verified_chain(ssl);
  long left = SSL_SESSION_get_timeout(session); /* RESUME_LIFETIME_S, or a client's ticket hint */
  if (left > RESUME_LIFETIME_S) left = RESUME_LIFETIME_S;
  for (int i = 0; chain && i < sk_X509_num(chain); i++) {
    int days = 0, secs = 0;
    if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(sk_X509_value(chain, i)))) { left = 0; break; }
    long until = days > 0 ? RESUME_LIFETIME_S : days < 0 ? -1 : secs; /* days and secs share a sign */
    if (until < left) left = until;
  }
  const time_t *expiry = SSL_get_ex_data(ssl, expiry_index);
  if (SSL_session_reused(ssl)) { /* no chain verified here: what the resumed session had left */
    long until = expiry ? (long)(*expiry - time(NULL)) : 0;
    if (until < left) left = until;
  } else if (!chain) {
    left = 0;
  }
  SSL_SESSION_set_timeout(session, left > 0 ? left : 0);
}

/* A resumed connection's new session or ticket ends when the one it resumed does (bound_lifetime):
 * so resuming again and again never outlives the chain the full handshake verified. */
static int remember_expiry(SSL *ssl, const SSL_SESSION *resumed) {
  time_t *expiry = malloc(sizeof *expiry);
  if (!expiry) return 0;
  *expiry = SSL_SESSION_get_time_ex(resumed) + (time_t)SSL_SESSION_get_timeout(resumed);
  void *before = SSL_get_ex_data(ssl, expiry_index); /* a second ClientHello (HelloRetryRequest) */
  if (SSL_set_ex_data(ssl, expiry_index, expiry) != 1) { free(expiry); return 0; }
  free(before);
  return 1;
}

/* OpenSSL hands a client each session the server issued (TLS 1.3: after the handshake). */
static int on_new_session(SSL *ssl, SSL_SESSION *session) {
  resume_cache *cache = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
  const unsigned char *key = SSL_get_ex_data(ssl, ssl_index);
  if (!cache || !key || !SSL_SESSION_is_resumable(session)) return 0;
  bound_lifetime(ssl, session);
  resume_slot *slot = &cache->slots[slot_of(key)];
  pthread_mutex_lock(&cache->lock);
  SSL_SESSION *old = slot->session;
  memcpy(slot->key, key, KEY_LEN);
  slot->session = session; /* returning 1 keeps OpenSSL's reference for us */
  pthread_mutex_unlock(&cache->lock);
  SSL_SESSION_free(old);
  return 1;
}

/* A server seals in each ticket the lifetime its client's verified chain allows. */
static int on_ticket_made(SSL *ssl, void *arg) {
  (void)arg;
  SSL_SESSION *session = SSL_get_session(ssl);
  if (session) bound_lifetime(ssl, session);
  return 1;
}

/* A server refuses a ticket whose client certificate expired since: a full handshake instead. */
static SSL_TICKET_RETURN on_ticket(SSL *ssl, SSL_SESSION *session, const unsigned char *name, size_t name_len,
                                   SSL_TICKET_STATUS status, void *arg) {
  (void)name; (void)name_len; (void)arg;
  switch (status) {
  case SSL_TICKET_SUCCESS: /* not what OpenSSL 3.5 says of a TLS 1.3 ticket: see SUCCESS_RENEW */
  case SSL_TICKET_SUCCESS_RENEW: /* every good TLS 1.3 ticket: the resumed connection gets a new one */
    if (!session_fresh(session) || !remember_expiry(ssl, session)) return SSL_TICKET_RETURN_IGNORE_RENEW;
    return SSL_TICKET_RETURN_USE_RENEW;
  case SSL_TICKET_FATAL_ERR_MALLOC:
  case SSL_TICKET_FATAL_ERR_OTHER:
    return SSL_TICKET_RETURN_ABORT;
  default: /* no ticket, or one this context cannot decrypt (another process, a rotated context) */
    return SSL_TICKET_RETURN_IGNORE_RENEW;
  }
}

int tls_resume_configure(SSL_CTX *ctx) {
  pthread_once(&index_once, make_indexes);
  resume_cache *cache = calloc(1, sizeof *cache);
  if (ctx_index < 0 || ssl_index < 0 || expiry_index < 0 || !cache) { free(cache); return -1; }
  pthread_mutex_init(&cache->lock, NULL);
  if (SSL_CTX_set_ex_data(ctx, ctx_index, cache) != 1) { cache_free(NULL, cache, NULL, 0, 0, NULL); return -1; }
  /* OpenSSL resumes a verified peer only inside a named context; the ticket keys already tie a
   * ticket to this context, so one name serves every context */
  static const unsigned char SID_CONTEXT[] = "switchyard-mtls";
  if (SSL_CTX_set_session_id_context(ctx, SID_CONTEXT, sizeof SID_CONTEXT - 1) != 1) return -1;
  SSL_CTX_set_num_tickets(ctx, 1);
  SSL_CTX_set_timeout(ctx, RESUME_LIFETIME_S);
  /* clients hand sessions to on_new_session; servers keep none (tickets are stateless) */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_sess_set_new_cb(ctx, on_new_session);
  return SSL_CTX_set_session_ticket_cb(ctx, on_ticket_made, on_ticket, NULL) == 1 ? 0 : -1;
}

void tls_resume_offer(SSL *ssl, int fd) {
  resume_cache *cache = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
  unsigned char *key = malloc(KEY_LEN);
  if (!cache || !key || destination_key(fd, key) != 0 || SSL_set_ex_data(ssl, ssl_index, key) != 1) {
    free(key);
    return; /* a full handshake, and nothing remembered */
  }
  resume_slot *slot = &cache->slots[slot_of(key)];
  SSL_SESSION *session = NULL;
  pthread_mutex_lock(&cache->lock);
  if (slot->session && memcmp(slot->key, key, KEY_LEN) == 0) {
    session = slot->session;
    SSL_SESSION_up_ref(session);
  }
  pthread_mutex_unlock(&cache->lock);
  if (session_fresh(session) && remember_expiry(ssl, session)) SSL_set_session(ssl, session);
  SSL_SESSION_free(session);
}
