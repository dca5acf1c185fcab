/* A growable byte buffer and JSON string escaping, for the requests and answers the programs write. */
#ifndef SWITCHYARD_OUT_BUF_H
#define SWITCHYARD_OUT_BUF_H

#include <stddef.h>

typedef struct {
  char *data;
  size_t len;
  size_t cap;
  int failed; /* set once an allocation failed or a limit was passed; every later write is ignored */
} out_buf;

void buf_put(out_buf *b, const char *data, size_t len);
void buf_puts(out_buf *b, const char *s);
/* Appends s as a quoted JSON string; returns -1 (and appends nothing) when s is not valid UTF-8. */
int buf_json_string(out_buf *b, const char *s);
void buf_free(out_buf *b);

/* 1 when [s, s + n) is valid UTF-8 (no overlong forms, no surrogates). */
int utf8_valid(const char *s, size_t n);

#endif
