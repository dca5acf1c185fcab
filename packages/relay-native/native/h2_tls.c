/* ALPN for HBONE: a context made with `alpn: 'h2'` offers h2 as a client and, as a server,
 * selects h2 or fails a client that offers only other protocols (no_application_protocol). A
 * client that offers no ALPN at all is served (HTTP/2 with prior knowledge, as Node does). */
#include <string.h>

#include "engine.h"

static const unsigned char H2_PROTOS[] = {2, 'h', '2'};

static int select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                     unsigned int inlen, void *arg) {
  (void)ssl; (void)arg;
  unsigned char *chosen = NULL;
  if (SSL_select_next_proto(&chosen, outlen, H2_PROTOS, sizeof H2_PROTOS, in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

int h2_tls_configure(SSL_CTX *ctx, const char *alpn) {
  if (strcmp(alpn, "h2") != 0) return -1;
  SSL_CTX_set_alpn_select_cb(ctx, select_h2, NULL);
  /* returns 0 on success (unlike most of OpenSSL) */
  return SSL_CTX_set_alpn_protos(ctx, H2_PROTOS, sizeof H2_PROTOS) == 0 ? 0 : -1;
}

/* Whether a peer without exactly one SPIFFE ID is handed to JavaScript to be answered 401 per
 * stream (an HBONE server, as ztunnel does) rather than closed at the TLS layer. */
int h2_answers_identity(SSL *ssl) {
  const unsigned char *alpn = NULL;
  unsigned int len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &len);
  return SSL_is_server(ssl) && len == 2 && memcmp(alpn, "h2", 2) == 0;
}
