/*
 * A tiny strict JSON scanner for the switchyard-cni plugin and the switchyard-runtime wrapper.
 *
 * Why hand-written: both programs are executed by the container runtime straight from the host's
 * disk and must be static, dependency-free binaries (no shared library to find, no version to
 * match). They only need to check that a document is one well-formed JSON object, find a few
 * top-level keys, read strings and arrays of strings, and pass spans through verbatim; a JSON
 * library would bring far more surface than that. It never allocates and never recurses deeper
 * than JS_MAX_DEPTH.
 */
#ifndef SWITCHYARD_JSON_SCAN_H
#define SWITCHYARD_JSON_SCAN_H

#include <stddef.h>

/* Nesting deeper than this is refused (bounded recursion on hostile input). */
#define JS_MAX_DEPTH 64

/* A byte range [start, start + len) of the document. */
typedef struct {
  const char *start;
  size_t len;
} js_span;

/* 1 when [doc, doc + n) is exactly one JSON object (whitespace around allowed), else 0. */
int js_is_object(const char *doc, size_t n);

/*
 * Finds the value of the top-level key `key` (ASCII, compared after unescaping) of the object in
 * `obj` (checked with js_is_object first). The last occurrence wins, as in JSON.parse.
 * Returns 1 and sets *out when found, 0 when absent.
 */
int js_get(js_span obj, const char *key, js_span *out);

/* 1 when the value span is a JSON string, 0 otherwise; likewise for the other kinds. */
int js_is_string(js_span v);
int js_is_array(js_span v);
int js_is_object_span(js_span v);
int js_is_number(js_span v);

/*
 * Decodes the JSON string `v` into buf (NUL-terminated, UTF-8). Returns the length, or -1 when v
 * is not a string, holds \u0000, or does not fit in cap - 1 bytes.
 */
long js_string(js_span v, char *buf, size_t cap);

/*
 * Iterates an array: *pos starts at 0; each call sets *elem to the next element and returns 1,
 * or returns 0 at the end.
 */
int js_array_next(js_span arr, size_t *pos, js_span *elem);

#endif
