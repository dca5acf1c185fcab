/* The Node-API surface of HTTP/2: serve or dial HTTP/2 on a handshaken connection, answer a
 * stream, open a tunnel, go away; and the objects of the HTTP/2 events. Sessions are named by
 * the thread that holds them and the connection's JavaScript id: a command for a connection that
 * has gone meanwhile finds nothing and closes the descriptor it carried. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h2.h"

#define ARGS(n)                                         \
  size_t argc = n;                                      \
  napi_value argv[n];                                   \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL); \
  if (argc < n) { napi_throw_type_error(env, NULL, "missing arguments"); return NULL; }

static double num(napi_env env, napi_value v) {
  double out = -1;
  napi_get_value_double(env, v, &out);
  return out;
}

/* A command for the session `argv[2]` on thread `argv[1]`, or NULL (thrown) when the thread is unknown. */
static command *session_command(napi_env env, napi_value *argv, worker **out, command_type type) {
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  double index = num(env, argv[1]);
  if (!(index >= 0 && index < e->n_workers)) {
    napi_throw_range_error(env, NULL, "no such engine thread");
    return NULL;
  }
  command *cmd = calloc(1, sizeof *cmd);
  if (!cmd) worker_fatal("command", 12);
  cmd->type = type;
  cmd->js_id = num(env, argv[2]);
  cmd->fd = -1;
  *out = &e->workers[(int)index];
  return cmd;
}

/* The longest peer identity a served connection keeps for its streams' table decisions. */
#define MAX_PEER 2048

/* h2Serve's optional slot and peer: the admission table decides the connection's streams. */
static int stream_admission(napi_env env, size_t argc, napi_value *argv, command *cmd) {
  if (argc < 5) return 0;
  napi_valuetype type;
  uint32_t slot = 0;
  size_t len = 0;
  if (napi_typeof(env, argv[3], &type) != napi_ok || type == napi_undefined) return 0;
  if (napi_get_value_uint32(env, argv[3], &slot) != napi_ok ||
      napi_get_value_string_utf8(env, argv[4], NULL, 0, &len) != napi_ok || len > MAX_PEER)
    return -1;
  if (slot == 0 || len == 0) return 0;
  cmd->fields = malloc(len + 1);
  if (!cmd->fields) worker_fatal("command", 12);
  napi_get_value_string_utf8(env, argv[4], cmd->fields, len + 1, &len);
  if (strlen(cmd->fields) != len) { /* an embedded NUL: no identity the table could match */
    free(cmd->fields);
    cmd->fields = NULL;
    return 0;
  }
  cmd->slot = slot;
  return 0;
}

/* h2Serve(engine, conn, denied, slot?, peer?) / h2Client(engine, conn): HTTP/2 instead of a
 * plain relay; a served connection with a slot has its streams decided by the admission table. */
static napi_value start(napi_env env, napi_callback_info info, command_type type) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3) { napi_throw_type_error(env, NULL, "missing arguments"); return NULL; }
  if (!engine_of(env, argv[0])) return NULL;
  conn *c = NULL;
  bool denied = false;
  napi_get_value_external(env, argv[1], (void **)&c);
  napi_get_value_bool(env, argv[2], &denied);
  command *cmd = calloc(1, sizeof *cmd);
  if (!cmd) worker_fatal("command", 12);
  cmd->type = type;
  cmd->c = c;
  cmd->fd = -1;
  cmd->status = denied;
  if (type == CMD_H2_SERVE && stream_admission(env, argc, argv, cmd) != 0) {
    free(cmd);
    napi_throw_type_error(env, "ERR_RELAY_NATIVE_ADMISSION", "bad stream admission (slot, peer)");
    return NULL;
  }
  /* read before the post: once the thread has the command, the connection may close and be freed */
  worker *w = c->w;
  int index = w->index;
  worker_post(w, cmd);
  napi_value out;
  napi_create_int32(env, index, &out);
  return out;
}
static napi_value h2_serve(napi_env env, napi_callback_info info) { return start(env, info, CMD_H2_SERVE); }
static napi_value h2_client(napi_env env, napi_callback_info info) { return start(env, info, CMD_H2_CLIENT); }

/* h2Accept(engine, worker, connId, stream, fd), h2Refuse(engine, worker, connId, stream, status),
 * h2Reset(engine, worker, connId, stream, 0): RST_STREAM CANCEL on one tunnel (a drain deadline),
 * h2Goaway(engine, worker, connId, 0, 0): GOAWAY, open streams finish. */
static napi_value stream_command(napi_env env, napi_callback_info info, command_type type) {
  ARGS(5);
  worker *w;
  command *cmd = session_command(env, argv, &w, type);
  if (!cmd) return NULL;
  cmd->stream = (int32_t)num(env, argv[3]);
  if (type == CMD_H2_ACCEPT) cmd->fd = (int)num(env, argv[4]);
  else cmd->status = (int)num(env, argv[4]);
  worker_post(w, cmd);
  return NULL;
}
static napi_value h2_accept(napi_env env, napi_callback_info info) { return stream_command(env, info, CMD_H2_ACCEPT); }
static napi_value h2_refuse(napi_env env, napi_callback_info info) { return stream_command(env, info, CMD_H2_REFUSE); }

/* h2Open(engine, worker, connId, tag, fields, fd): fields is a Buffer of NUL-terminated strings. */
static napi_value h2_open(napi_env env, napi_callback_info info) {
  ARGS(6);
  void *data = NULL;
  size_t len = 0;
  if (napi_get_buffer_info(env, argv[4], &data, &len) != napi_ok || len == 0 || len > 8192) {
    napi_throw_type_error(env, NULL, "fields must be a Buffer of at most 8 KiB");
    return NULL;
  }
  worker *w;
  command *cmd = session_command(env, argv, &w, CMD_H2_OPEN);
  if (!cmd) return NULL;
  cmd->tag = num(env, argv[3]);
  cmd->fields = malloc(len);
  if (!cmd->fields) worker_fatal("command", 12);
  memcpy(cmd->fields, data, len);
  cmd->fields_len = len;
  cmd->fd = (int)num(env, argv[5]);
  worker_post(w, cmd);
  return NULL;
}

static napi_value h2_goaway(napi_env env, napi_callback_info info) { return stream_command(env, info, CMD_H2_GOAWAY); }
static napi_value h2_reset(napi_env env, napi_callback_info info) { return stream_command(env, info, CMD_H2_RESET); }

static void set_num(napi_env env, napi_value obj, const char *key, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  napi_set_named_property(env, obj, key, out);
}

static void set_str(napi_env env, napi_value obj, const char *key, const char *s, size_t len) {
  napi_value out;
  napi_create_string_latin1(env, s, len, &out);
  napi_set_named_property(env, obj, key, out);
}

static void stream_fields(napi_env env, napi_value obj, event *ev) {
  static const char *const keys[4] = {"method", "authority", "xTun", "forwarded"};
  size_t at = 0;
  for (int i = 0; i < 4 && at < ev->fields_len; i++) {
    size_t l = strnlen(ev->fields + at, ev->fields_len - at);
    set_str(env, obj, keys[i], ev->fields + at, l);
    at += l + 1;
  }
  napi_value overflow;
  napi_get_boolean(env, ev->status != 0, &overflow);
  napi_set_named_property(env, obj, "overflow", overflow);
}

napi_value h2_event_object(napi_env env, event *ev) {
  static const char *const types[] = {"h2stream", "h2response", "h2closed"};
  napi_value obj;
  napi_create_object(env, &obj);
  const char *type = types[ev->type - EV_H2_STREAM];
  set_str(env, obj, "type", type, strlen(type));
  set_num(env, obj, "id", ev->js_id);
  set_num(env, obj, "worker", ev->worker);
  set_num(env, obj, "stream", ev->stream);
  set_num(env, obj, "tag", ev->tag);
  if (ev->type == EV_H2_STREAM) {
    stream_fields(env, obj, ev);
    if (ev->admitted != ADMIT_ASK) { /* decided by the admission table: JavaScript only hears it */
      const char *decided = ev->admitted == ADMIT_ACCEPTED ? "accepted" : "refused";
      set_str(env, obj, "decided", decided, strlen(decided));
      set_str(env, obj, "refusedCode", REFUSE_CODE_NAMES[ev->refused], strlen(REFUSE_CODE_NAMES[ev->refused]));
      set_str(env, obj, "detail", ev->detail, strlen(ev->detail));
    }
  }
  else if (ev->type == EV_H2_RESPONSE) set_num(env, obj, "status", ev->status);
  else {
    set_num(env, obj, "up", (double)ev->up);
    set_num(env, obj, "down", (double)ev->down);
    set_num(env, obj, "code", ev->status);
    const char *reason = CLOSE_REASON_NAMES[ev->reason];
    set_str(env, obj, "reason", reason, strlen(reason));
  }
  h2_event_free(ev);
  return obj;
}

void h2_event_free(event *ev) {
  free(ev->fields);
  ev->fields = NULL;
}

void h2_define(napi_env env, napi_value exports) {
  static const struct { const char *name; napi_callback fn; } functions[] = {
      {"h2Serve", h2_serve}, {"h2Client", h2_client}, {"h2Accept", h2_accept},
      {"h2Refuse", h2_refuse}, {"h2Open", h2_open},     {"h2Goaway", h2_goaway}, {"h2Reset", h2_reset},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, functions[i].name, fn);
  }
}
