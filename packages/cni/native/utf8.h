/* UTF-8 checking shared by the JSON scanner and the JSON writer. */
#ifndef SWITCHYARD_UTF8_H
#define SWITCHYARD_UTF8_H

#include <stddef.h>

/*
 * The length of the UTF-8 sequence at u (avail bytes readable, u[0] >= 0x80), or 0 when it is
 * not valid UTF-8 (overlong forms, surrogates and code points past U+10FFFF are refused).
 */
static inline size_t utf8_seq(const unsigned char *u, size_t avail) {
  unsigned c = u[0], cp, min;
  size_t len;
  if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f, min = 0x80;
  else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f, min = 0x800;
  else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (len > avail) return 0;
  for (size_t i = 1; i < len; i++) {
    if ((u[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (u[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

#endif
