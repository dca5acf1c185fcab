/* The Node-API surface of admission: install a table, read a connection's question from its
 * hand-off, and (for the agreement tests) ask the table without a handshake. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* The longest list of expected identities a question may carry (bytes, separators included). */
#define MAX_EXPECTED (64 * 1024)

static int bool_property(napi_env env, napi_value obj, const char *key) {
  napi_value v;
  bool has = false, out = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return 0;
  napi_get_value_bool(env, v, &out);
  return out ? 1 : 0;
}

/* `expected`: identities separated by "\n" ("" is an empty list); absent: unknown destination. */
static int read_expected(napi_env env, napi_value obj, admit_request *r) {
  napi_value v;
  bool has = false;
  napi_valuetype type;
  if (napi_has_named_property(env, obj, "expected", &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, "expected", &v) != napi_ok || napi_typeof(env, v, &type) != napi_ok)
    return -1;
  if (type == napi_undefined) return 0;
  size_t len = 0;
  if (type != napi_string || napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len > MAX_EXPECTED)
    return -1;
  r->expected = malloc(len + 1);
  if (!r->expected) return -1;
  napi_get_value_string_utf8(env, v, r->expected, len + 1, &len);
  if (memchr(r->expected, 0, len)) return -1; /* an embedded NUL would split an identity */
  for (size_t i = 0; i < len; i++)
    if (r->expected[i] == '\n') r->expected[i] = 0;
  r->expected_len = len;
  return 0;
}

int admission_request_read(napi_env env, napi_value obj, admit_request *r) {
  memset(r, 0, sizeof *r);
  napi_value v;
  uint32_t slot = 0;
  if (napi_get_named_property(env, obj, "slot", &v) != napi_ok || napi_get_value_uint32(env, v, &slot) != napi_ok)
    return -1;
  r->slot = slot;
  r->pinned = bool_property(env, obj, "pinned");
  r->trust_domain_fallback = bool_property(env, obj, "trustDomainFallback");
  if (read_expected(env, obj, r) != 0) {
    admission_request_free(r);
    return -1;
  }
  return 0;
}

/* setAdmission(engine, table: Buffer): replaces the engine's table; a malformed one changes nothing. */
static napi_value set_admission(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) { napi_throw_type_error(env, NULL, "missing arguments"); return NULL; }
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  void *data = NULL;
  size_t len = 0;
  bool is_buffer = false;
  napi_is_buffer(env, argv[1], &is_buffer);
  if (!is_buffer || napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_RELAY_NATIVE_ADMISSION", "the admission table must be a Buffer");
    return NULL;
  }
  char why[128];
  admission_table *t = admission_parse(data, len, why, sizeof why);
  if (!t) { napi_throw_error(env, "ERR_RELAY_NATIVE_ADMISSION", why); return NULL; }
  admission_install(e, t);
  return NULL;
}

/* admissionLiveTables(engine) → tables alive: the installed one and any a thread still reads. */
static napi_value live_tables(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1) { napi_throw_type_error(env, NULL, "missing arguments"); return NULL; }
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  napi_create_double(env, (double)admission_live_tables(e), &out);
  return out;
}

/* admissionDecideForTesting(engine, question, peer) → { verdict, code }: the table's answer
 * without a handshake, for the tests that hold it against JavaScript's decision. */
static napi_value decide_for_testing(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out, v;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) { napi_throw_type_error(env, NULL, "missing arguments"); return NULL; }
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  admit_request r;
  char peer[1024];
  size_t len = 0;
  if (admission_request_read(env, argv[1], &r) != 0 ||
      napi_get_value_string_utf8(env, argv[2], peer, sizeof peer, &len) != napi_ok) {
    napi_throw_type_error(env, "ERR_RELAY_NATIVE_ADMISSION", "bad admission question");
    return NULL;
  }
  refuse_code code;
  admit_verdict verdict = admission_decide(e, &r, peer, &code);
  admission_request_free(&r);
  static const char *const names[] = {"ask", "accepted", "refused"};
  napi_create_object(env, &out);
  napi_create_string_utf8(env, names[verdict], NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "verdict", v);
  napi_create_string_utf8(env, REFUSE_CODE_NAMES[code], NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "code", v);
  return out;
}

void admission_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"setAdmission", NULL, set_admission, NULL, NULL, NULL, napi_default, NULL},
      {"admissionLiveTables", NULL, live_tables, NULL, NULL, NULL, napi_default, NULL},
      {"admissionDecideForTesting", NULL, decide_for_testing, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
