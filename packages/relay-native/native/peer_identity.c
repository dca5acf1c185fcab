/* What JavaScript needs to authorize a peer: its verified chain (DER) and its one SPIFFE ID. */
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static const char SPIFFE_SCHEME[] = "spiffe://";

/* The leaf's single `spiffe://` URI SAN, copied; NULL with a reason when there are none or several. */
static char *spiffe_id_of(X509 *leaf, char *why, size_t why_len) {
  GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
  char *found = NULL;
  int count = 0;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const unsigned char *data = ASN1_STRING_get0_data(name->d.uniformResourceIdentifier);
    int len = ASN1_STRING_length(name->d.uniformResourceIdentifier);
    size_t scheme = sizeof SPIFFE_SCHEME - 1;
    if (len < (int)scheme || memcmp(data, SPIFFE_SCHEME, scheme) != 0) continue;
    if (memchr(data, 0, (size_t)len)) continue; /* an embedded NUL is never a valid ID */
    if (++count > 1) break;
    found = strndup((const char *)data, (size_t)len);
  }
  GENERAL_NAMES_free(names);
  if (count == 1 && found) return found;
  free(found);
  snprintf(why, why_len, "%s", count == 0 ? "the peer certificate has no SPIFFE ID (URI SAN spiffe://...)"
                                          : "the peer certificate has more than one SPIFFE ID");
  return NULL;
}

/* DER certificates, leaf first, each behind a 4-byte big-endian length. */
static unsigned char *chain_der(STACK_OF(X509) *chain, size_t *out_len) {
  size_t total = 0;
  int n = sk_X509_num(chain);
  for (int i = 0; i < n; i++) {
    int len = i2d_X509(sk_X509_value(chain, i), NULL);
    if (len <= 0) return NULL;
    total += 4 + (size_t)len;
  }
  unsigned char *out = malloc(total ? total : 1), *p = out;
  if (!out) return NULL;
  for (int i = 0; i < n; i++) {
    unsigned char *body = p + 4;
    int len = i2d_X509(sk_X509_value(chain, i), &body);
    p[0] = (unsigned char)(len >> 24); p[1] = (unsigned char)(len >> 16);
    p[2] = (unsigned char)(len >> 8);  p[3] = (unsigned char)len;
    p = body;
  }
  *out_len = total;
  return out;
}

/* The chain the handshake verified; a resumed session verified it when it was made and keeps only
 * the leaf, so then the chain is the leaf alone (`*owned` is set: the caller frees the stack). */
static STACK_OF(X509) *verified_chain(SSL *ssl, STACK_OF(X509) **owned) {
  *owned = NULL;
  if (!SSL_session_reused(ssl)) return SSL_get0_verified_chain(ssl);
  X509 *leaf = SSL_get0_peer_certificate(ssl);
  if (!leaf || !(*owned = sk_X509_new_null())) return NULL;
  if (sk_X509_push(*owned, leaf) <= 0) { sk_X509_free(*owned); *owned = NULL; }
  return *owned;
}

int peer_identity(SSL *ssl, char **spiffe_id, unsigned char **chain, size_t *chain_len, char *why, size_t why_len) {
  STACK_OF(X509) *owned;
  STACK_OF(X509) *verified = verified_chain(ssl, &owned);
  int ok = SSL_get_verify_result(ssl) == X509_V_OK && verified && sk_X509_num(verified) > 0;
  if (!ok) snprintf(why, why_len, "the peer presented no verified certificate");
  if (ok) *spiffe_id = spiffe_id_of(sk_X509_value(verified, 0), why, why_len);
  if (ok && *spiffe_id && !(*chain = chain_der(verified, chain_len))) {
    free(*spiffe_id);
    *spiffe_id = NULL;
    snprintf(why, why_len, "the peer chain could not be encoded");
  }
  sk_X509_free(owned); /* the stack only: the leaf belongs to the session */
  return ok && *spiffe_id ? 0 : -1;
}
