/* The strict JSON scanner (see json-scan.h for why it is hand-written). */
#include "json-scan.h"

#include <string.h>

#include "utf8.h"

static void skip_ws(const char *s, size_t n, size_t *p) {
  while (*p < n && (s[*p] == ' ' || s[*p] == '\t' || s[*p] == '\n' || s[*p] == '\r')) (*p)++;
}

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads 4 hex digits at s[p..p+3] into *cp; 0 on success. */
static int hex4(const char *s, size_t n, size_t p, unsigned *cp) {
  if (p + 4 > n) return -1;
  unsigned v = 0;
  for (size_t i = 0; i < 4; i++) {
    int h = hex(s[p + i]);
    if (h < 0) return -1;
    v = (v << 4) | (unsigned)h;
  }
  *cp = v;
  return 0;
}

/* Checks one UTF-8 sequence starting at s[*p] (a byte >= 0x80) and steps over it. */
static int skip_utf8(const char *s, size_t n, size_t *p) {
  size_t len = utf8_seq((const unsigned char *)s + *p, n - *p);
  if (len == 0) return -1;
  *p += len;
  return 0;
}

/* s[*p] is '"': steps over the whole string, checking escapes and UTF-8. */
static int skip_string(const char *s, size_t n, size_t *p) {
  (*p)++;
  while (*p < n) {
    unsigned char c = (unsigned char)s[*p];
    if (c == '"') {
      (*p)++;
      return 0;
    }
    if (c < 0x20) return -1;
    if (c == '\\') {
      if (*p + 1 >= n) return -1;
      char e = s[*p + 1];
      if (e == 'u') {
        unsigned cp;
        if (hex4(s, n, *p + 2, &cp) != 0) return -1;
        *p += 6;
      } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
        *p += 2;
      } else {
        return -1;
      }
    } else if (c >= 0x80) {
      if (skip_utf8(s, n, p) != 0) return -1;
    } else {
      (*p)++;
    }
  }
  return -1;
}

static size_t digits(const char *s, size_t n, size_t *p) {
  size_t start = *p;
  while (*p < n && s[*p] >= '0' && s[*p] <= '9') (*p)++;
  return *p - start;
}

static int skip_number(const char *s, size_t n, size_t *p) {
  if (*p < n && s[*p] == '-') (*p)++;
  if (*p < n && s[*p] == '0') (*p)++;
  else if (digits(s, n, p) == 0) return -1;
  if (*p < n && s[*p] == '.') {
    (*p)++;
    if (digits(s, n, p) == 0) return -1;
  }
  if (*p < n && (s[*p] == 'e' || s[*p] == 'E')) {
    (*p)++;
    if (*p < n && (s[*p] == '+' || s[*p] == '-')) (*p)++;
    if (digits(s, n, p) == 0) return -1;
  }
  return 0;
}

static int skip_literal(const char *s, size_t n, size_t *p, const char *word) {
  size_t len = strlen(word);
  if (*p + len > n || memcmp(s + *p, word, len) != 0) return -1;
  *p += len;
  return 0;
}

static int skip_value(const char *s, size_t n, size_t *p, int depth);

/* Steps over an object or array at s[*p]; `close` is '}' or ']'. */
static int skip_container(const char *s, size_t n, size_t *p, int depth, char close) {
  if (depth >= JS_MAX_DEPTH) return -1;
  (*p)++;
  skip_ws(s, n, p);
  if (*p < n && s[*p] == close) {
    (*p)++;
    return 0;
  }
  for (;;) {
    if (close == '}') {
      if (*p >= n || s[*p] != '"' || skip_string(s, n, p) != 0) return -1;
      skip_ws(s, n, p);
      if (*p >= n || s[*p] != ':') return -1;
      (*p)++;
      skip_ws(s, n, p);
    }
    if (skip_value(s, n, p, depth + 1) != 0) return -1;
    skip_ws(s, n, p);
    if (*p >= n) return -1;
    if (s[*p] == close) {
      (*p)++;
      return 0;
    }
    if (s[*p] != ',') return -1;
    (*p)++;
    skip_ws(s, n, p);
  }
}

static int skip_value(const char *s, size_t n, size_t *p, int depth) {
  if (*p >= n) return -1;
  switch (s[*p]) {
    case '{': return skip_container(s, n, p, depth, '}');
    case '[': return skip_container(s, n, p, depth, ']');
    case '"': return skip_string(s, n, p);
    case 't': return skip_literal(s, n, p, "true");
    case 'f': return skip_literal(s, n, p, "false");
    case 'n': return skip_literal(s, n, p, "null");
    default: return skip_number(s, n, p);
  }
}

/* 1 when the whole span is exactly one value whose first byte is `first` (whitespace around allowed). */
static int is_kind(js_span v, int (*first)(char)) {
  size_t p = 0;
  skip_ws(v.start, v.len, &p);
  if (p >= v.len || !first(v.start[p])) return 0;
  if (skip_value(v.start, v.len, &p, 0) != 0) return 0;
  skip_ws(v.start, v.len, &p);
  return p == v.len;
}

static int first_object(char c) { return c == '{'; }
static int first_array(char c) { return c == '['; }
static int first_string(char c) { return c == '"'; }
static int first_number(char c) { return c == '-' || (c >= '0' && c <= '9'); }

int js_is_object(const char *doc, size_t n) { return is_kind((js_span){doc, n}, first_object); }
int js_is_object_span(js_span v) { return is_kind(v, first_object); }
int js_is_array(js_span v) { return is_kind(v, first_array); }
int js_is_string(js_span v) { return is_kind(v, first_string); }
int js_is_number(js_span v) { return is_kind(v, first_number); }

/* Appends code point cp to buf as UTF-8; -1 when it does not fit before cap - 1. */
static int put_utf8(char *buf, size_t cap, size_t *o, unsigned cp) {
  unsigned char tmp[4];
  size_t len;
  if (cp < 0x80) tmp[0] = (unsigned char)cp, len = 1;
  else if (cp < 0x800) tmp[0] = (unsigned char)(0xc0 | (cp >> 6)), tmp[1] = (unsigned char)(0x80 | (cp & 0x3f)), len = 2;
  else if (cp < 0x10000) {
    tmp[0] = (unsigned char)(0xe0 | (cp >> 12));
    tmp[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    tmp[2] = (unsigned char)(0x80 | (cp & 0x3f));
    len = 3;
  } else {
    tmp[0] = (unsigned char)(0xf0 | (cp >> 18));
    tmp[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    tmp[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    tmp[3] = (unsigned char)(0x80 | (cp & 0x3f));
    len = 4;
  }
  if (*o + len >= cap) return -1;
  memcpy(buf + *o, tmp, len);
  *o += len;
  return 0;
}

/* Decodes the escape at s[*p] ('\\'); lone surrogates become U+FFFD, as a UTF-8 decoder would. */
static int unescape(const char *s, size_t n, size_t *p, unsigned *cp) {
  char e = s[*p + 1];
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  const char *hit = strchr(from, e);
  if (e != 'u') {
    if (hit == NULL || e == '\0') return -1;
    *cp = (unsigned char)to[hit - from];
    *p += 2;
    return 0;
  }
  if (hex4(s, n, *p + 2, cp) != 0) return -1;
  *p += 6;
  if (*cp >= 0xd800 && *cp <= 0xdbff) {
    unsigned lo;
    if (*p + 1 < n && s[*p] == '\\' && s[*p + 1] == 'u' && hex4(s, n, *p + 2, &lo) == 0 && lo >= 0xdc00 &&
        lo <= 0xdfff) {
      *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
      *p += 6;
    } else {
      *cp = 0xfffd;
    }
  } else if (*cp >= 0xdc00 && *cp <= 0xdfff) {
    *cp = 0xfffd;
  }
  return 0;
}

long js_string(js_span v, char *buf, size_t cap) {
  if (cap == 0 || !js_is_string(v)) return -1;
  size_t p = 0, o = 0;
  skip_ws(v.start, v.len, &p);
  p++;
  while (p < v.len && v.start[p] != '"') {
    if (v.start[p] == '\\') {
      unsigned cp;
      if (unescape(v.start, v.len, &p, &cp) != 0 || cp == 0 || put_utf8(buf, cap, &o, cp) != 0) return -1;
    } else {
      if (o + 1 >= cap) return -1;
      buf[o++] = v.start[p++];
    }
  }
  buf[o] = '\0';
  return (long)o;
}

int js_get(js_span obj, const char *key, js_span *out) {
  const char *s = obj.start;
  size_t n = obj.len, p = 0;
  int found = 0;
  char name[256];
  skip_ws(s, n, &p);
  if (p >= n || s[p] != '{') return 0;
  p++;
  for (;;) {
    skip_ws(s, n, &p);
    if (p >= n || s[p] != '"') return found;
    size_t kstart = p;
    if (skip_string(s, n, &p) != 0) return 0;
    long klen = js_string((js_span){s + kstart, p - kstart}, name, sizeof name);
    skip_ws(s, n, &p);
    if (p >= n || s[p] != ':') return 0;
    p++;
    skip_ws(s, n, &p);
    size_t vstart = p;
    if (skip_value(s, n, &p, 1) != 0) return 0;
    if (klen >= 0 && strcmp(name, key) == 0) {
      out->start = s + vstart;
      out->len = p - vstart;
      found = 1;
    }
    skip_ws(s, n, &p);
    if (p >= n || s[p] != ',') return found;
    p++;
  }
}

int js_array_next(js_span arr, size_t *pos, js_span *elem) {
  const char *s = arr.start;
  size_t n = arr.len, p = *pos;
  if (p == 0) {
    skip_ws(s, n, &p);
    if (p >= n || s[p] != '[') return 0;
    p++;
  }
  skip_ws(s, n, &p);
  if (p >= n || s[p] == ']') {
    *pos = n;
    return 0;
  }
  size_t start = p;
  if (skip_value(s, n, &p, 1) != 0) {
    *pos = n;
    return 0;
  }
  elem->start = s + start;
  elem->len = p - start;
  skip_ws(s, n, &p);
  if (p < n && s[p] == ',') p++;
  *pos = p;
  return 1;
}
