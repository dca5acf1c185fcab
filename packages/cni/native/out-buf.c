/* The growable buffer (see out-buf.h). */
#include "out-buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* Nothing these programs write comes near this; a bound keeps a bug from eating memory. */
#define OUT_BUF_MAX (4u << 20)

void buf_put(out_buf *b, const char *data, size_t len) {
  if (b->failed) return;
  if (len > OUT_BUF_MAX - b->len) {
    b->failed = 1;
    return;
  }
  if (b->len + len + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + len + 1) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (grown == NULL) {
      b->failed = 1;
      return;
    }
    b->data = grown;
    b->cap = cap;
  }
  if (len) memcpy(b->data + b->len, data, len);
  b->len += len;
  b->data[b->len] = '\0';
}

void buf_puts(out_buf *b, const char *s) { buf_put(b, s, strlen(s)); }

int utf8_valid(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  for (size_t i = 0; i < n;) {
    size_t len = u[i] < 0x80 ? 1 : utf8_seq(u + i, n - i);
    if (len == 0) return 0;
    i += len;
  }
  return 1;
}

int buf_json_string(out_buf *b, const char *s) {
  size_t n = strlen(s);
  if (!utf8_valid(s, n)) return -1;
  buf_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char esc[2] = {'\\', (char)c};
      buf_put(b, esc, 2);
    } else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", c);
      buf_puts(b, esc);
    } else {
      buf_put(b, (const char *)&s[i], 1);
    }
  }
  buf_put(b, "\"", 1);
  return 0;
}

void buf_free(out_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
