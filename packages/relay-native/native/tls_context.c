/* A TLS context from PEM given by JavaScript: TLS 1.3 only, peer certificates required and
 * verified against the given CA bundle, small idle footprint. New contexts replace old ones for
 * new connections (rotation); connections keep the context they started with. */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

#define MAX_PEM (1024 * 1024)

static void throw_tls(napi_env env, const char *what) {
  char msg[400], reason[256] = "no detail";
  unsigned long e = ERR_peek_last_error();
  if (e) ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  snprintf(msg, sizeof msg, "%s (%s)", what, reason);
  napi_throw_error(env, "ERR_RELAY_NATIVE_CREDENTIALS", msg);
}

/* A property of `obj` as a NUL-terminated string (JS strings or Buffers), or NULL if absent. */
static char *text_property(napi_env env, napi_value obj, const char *key) {
  napi_value v;
  bool has = false;
  napi_valuetype t;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return NULL;
  napi_get_named_property(env, obj, key, &v);
  napi_typeof(env, v, &t);
  if (t == napi_string) {
    size_t len;
    napi_get_value_string_utf8(env, v, NULL, 0, &len);
    if (len > MAX_PEM) return NULL;
    char *out = malloc(len + 1);
    if (out) napi_get_value_string_utf8(env, v, out, len + 1, &len);
    return out;
  }
  bool is_buffer = false;
  napi_is_buffer(env, v, &is_buffer);
  if (!is_buffer) return NULL;
  void *data;
  size_t len;
  napi_get_buffer_info(env, v, &data, &len);
  if (len > MAX_PEM) return NULL;
  char *out = malloc(len + 1);
  if (!out) return NULL;
  memcpy(out, data, len);
  out[len] = 0;
  return out;
}

static int load_chain(SSL_CTX *ctx, const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  X509 *leaf = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
  int ok = leaf && SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  X509 *extra;
  while (ok && (extra = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) { X509_free(extra); ok = 0; }
  }
  ERR_clear_error(); /* the end of the PEM reads as an error */
  BIO_free(bio);
  return ok;
}

static int load_key(SSL_CTX *ctx, const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  int ok = key && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
  EVP_PKEY_free(key);
  BIO_free(bio);
  return ok;
}

static int load_ca(SSL_CTX *ctx, const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  X509_STORE *store = SSL_CTX_get_cert_store(ctx);
  X509 *cert;
  int count = 0;
  while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
    if (X509_STORE_add_cert(store, cert) == 1) count++;
    X509_free(cert);
  }
  ERR_clear_error();
  BIO_free(bio);
  return count > 0;
}

static void ctx_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  SSL_CTX_free(data); /* reference-counted: live connections keep it */
}

static SSL_CTX *ctx_new(void) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_method());
  if (!ctx) return NULL;
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  /* read several records per recv(): fewer syscalls on the decrypt side */
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
  /* tickets for peers, a session per destination for our own dials (tls_resume.c) */
  if (tls_resume_configure(ctx) != 0) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  /* compressing our certificate (RFC 8879) costs milliseconds of high-quality brotli per
   * handshake (OpenSSL compresses a client certificate on the fly even when a compressed copy is
   * stored): send it uncompressed; compressed ones from peers are still accepted */
#ifdef SSL_OP_NO_TX_CERTIFICATE_COMPRESSION /* OpenSSL 3.2+ */
  SSL_CTX_set_options(ctx, SSL_OP_NO_TX_CERTIFICATE_COMPRESSION);
#endif
  return ctx;
}

/* createTlsContext({ cert, key, ca, groups?, ciphersuites?, alpn? ('h2') }) → context handle. */
napi_value relay_tls_context_create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char *cert = text_property(env, argv[0], "cert"), *key = text_property(env, argv[0], "key");
  char *ca = text_property(env, argv[0], "ca"), *groups = text_property(env, argv[0], "groups");
  char *suites = text_property(env, argv[0], "ciphersuites"), *alpn = text_property(env, argv[0], "alpn");
  SSL_CTX *ctx = ctx_new();
  if (!cert || !key || !ca) napi_throw_error(env, "ERR_RELAY_NATIVE_CREDENTIALS", "cert, key and ca are required (PEM)");
  else if (!ctx) throw_tls(env, "could not create a TLS context");
  else if (!load_chain(ctx, cert)) throw_tls(env, "the certificate chain could not be used");
  else if (!load_key(ctx, key)) throw_tls(env, "the private key could not be used or does not match the certificate");
  else if (!load_ca(ctx, ca)) throw_tls(env, "the CA bundle holds no usable certificate");
  else if (groups && SSL_CTX_set1_groups_list(ctx, groups) != 1) throw_tls(env, "unknown key exchange groups");
  else if (suites && SSL_CTX_set_ciphersuites(ctx, suites) != 1) throw_tls(env, "unknown TLS 1.3 cipher suites");
  else if (alpn && h2_tls_configure(ctx, alpn) != 0) throw_tls(env, "the only ALPN protocol the engine speaks is h2");
  else if (napi_create_external(env, ctx, ctx_finalize, NULL, &out) == napi_ok) ctx = NULL;
  SSL_CTX_free(ctx);
  if (key) OPENSSL_cleanse(key, strlen(key));
  free(cert); free(key); free(ca); free(groups); free(suites); free(alpn);
  return out;
}
