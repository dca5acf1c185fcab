/* The Node-API surface: create/close an engine, hand it sockets, answer handshakes, read stats.
 * JavaScript passes descriptors it has already duplicated; the engine owns and closes them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

#define CHECK_ARGS(n)                                   \
  size_t argc = n;                                      \
  napi_value argv[n];                                   \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL); \
  if (argc < n) { napi_throw_type_error(env, NULL, "missing arguments"); return NULL; }

static uint32_t u32_property(napi_env env, napi_value obj, const char *key, uint32_t fallback) {
  napi_value v;
  bool has = false;
  uint32_t out = fallback;
  if (napi_has_named_property(env, obj, key, &has) == napi_ok && has &&
      napi_get_named_property(env, obj, key, &v) == napi_ok)
    napi_get_value_uint32(env, v, &out);
  return out;
}

engine *engine_of(napi_env env, napi_value v) {
  engine *e = NULL;
  napi_get_value_external(env, v, (void **)&e);
  if (!e || e->closed) {
    napi_throw_error(env, "ERR_RELAY_NATIVE_CLOSED", "the relay engine is closed");
    return NULL;
  }
  return e;
}

static void engine_release(engine *e) {
  if (atomic_fetch_sub(&e->owners, 1) != 1) return;
  free(e->workers);
  free(e);
}

/* JavaScript's handle was collected: a closed engine may be checked through it until then. */
static void handle_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  engine_release(data);
}

/* The event function's last batch was delivered: the threads are gone, their descriptors go. */
static void engine_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  engine *e = data;
  for (int i = 0; i < e->n_workers; i++) {
    close(e->workers[i].epfd);
    close(e->workers[i].wakefd);
    pthread_mutex_destroy(&e->workers[i].lock);
  }
  pthread_mutex_destroy(&e->admission_lock);
  engine_release(e);
}

/* createEngine({ threads, idleTimeoutMs, handshakeTimeoutMs, pipeSize, keyUpdatesPerMinute,
 *   emptyRecordsPerSecond, emptyRecordBurst }, onEvents); a missing limit is none */
static napi_value create_engine(napi_env env, napi_callback_info info) {
  CHECK_ARGS(2);
  crash_guard_install();
  engine *e = calloc(1, sizeof *e);
  e->n_workers = (int)u32_property(env, argv[0], "threads", 1);
  if (e->n_workers < 1 || e->n_workers > 256) e->n_workers = 1;
  e->idle_timeout_ms = u32_property(env, argv[0], "idleTimeoutMs", 0);
  e->handshake_timeout_ms = u32_property(env, argv[0], "handshakeTimeoutMs", 0);
  e->key_updates_per_minute = u32_property(env, argv[0], "keyUpdatesPerMinute", 0);
  e->empty_records_per_second = u32_property(env, argv[0], "emptyRecordsPerSecond", 0);
  e->empty_record_burst = u32_property(env, argv[0], "emptyRecordBurst", 0);
  e->pipe_size = (int)u32_property(env, argv[0], "pipeSize", 0);
  e->h2_idle_ms = u32_property(env, argv[0], "h2IdleTimeoutMs", 0);
  e->workers = calloc((size_t)e->n_workers, sizeof *e->workers);
  atomic_init(&e->owners, 2);
  pthread_mutex_init(&e->admission_lock, NULL);
  napi_value name;
  napi_create_string_utf8(env, "switchyard relay-native events", NAPI_AUTO_LENGTH, &name);
  /* the engine memory is freed once both the handle and the thread-safe function are finalized */
  napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, e, engine_finalize, NULL, events_deliver, &e->tsfn);
  napi_unref_threadsafe_function(env, e->tsfn);
  for (int i = 0; i < e->n_workers; i++) {
    e->workers[i].engine = e;
    e->workers[i].index = i;
    if (worker_start(&e->workers[i]) != 0) worker_fatal("starting an engine thread", errno);
  }
  napi_value out;
  napi_create_external(env, e, handle_finalize, NULL, &out);
  return out;
}

/* closeEngine(engine): stops and joins every thread; open connections end with engine-closed. */
static napi_value close_engine(napi_env env, napi_callback_info info) {
  CHECK_ARGS(1);
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  e->closed = 1;
  for (int i = 0; i < e->n_workers; i++) {
    command *cmd = calloc(1, sizeof *cmd);
    cmd->type = CMD_STOP;
    worker_post(&e->workers[i], cmd);
  }
  for (int i = 0; i < e->n_workers; i++) pthread_join(e->workers[i].thread, NULL);
  admission_clear(e);
  napi_release_threadsafe_function(e->tsfn, napi_tsfn_release);
  return NULL;
}

/* ref(engine, bool): keep the process alive while connections are open. */
static napi_value set_ref(napi_env env, napi_callback_info info) {
  CHECK_ARGS(2);
  engine *e = engine_of(env, argv[0]);
  bool on = false;
  napi_get_value_bool(env, argv[1], &on);
  if (e) (on ? napi_ref_threadsafe_function : napi_unref_threadsafe_function)(env, e->tsfn);
  return NULL;
}

static conn *conn_new(double js_id, conn_kind kind, int fd_a, int fd_b) {
  conn *c = calloc(1, sizeof *c);
  if (!c) worker_fatal("connection", ENOMEM);
  c->js_id = js_id;
  c->kind = kind;
  c->a = (side){.conn = c, .fd = fd_a};
  c->b = (side){.conn = c, .fd = fd_b};
  c->up.pipe_r = c->up.pipe_w = c->down.pipe_r = c->down.pipe_w = -1;
  c->timer_list = -1;
  return c;
}

static void post_add(engine *e, conn *c) {
  unsigned i = atomic_fetch_add(&e->next_worker, 1) % (unsigned)e->n_workers;
  command *cmd = calloc(1, sizeof *cmd);
  cmd->type = CMD_ADD;
  cmd->c = c;
  worker_post(&e->workers[i], cmd);
}

static int fd_arg(napi_env env, napi_value v) {
  int32_t fd = -1;
  napi_get_value_int32(env, v, &fd);
  return fd;
}

/* splice(engine, id, fdA, fdB): relay two plain sockets. */
static napi_value splice_fds(napi_env env, napi_callback_info info) {
  CHECK_ARGS(4);
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  double id;
  napi_get_value_double(env, argv[1], &id);
  conn *c = conn_new(id, KIND_SPLICE, fd_arg(env, argv[2]), fd_arg(env, argv[3]));
  c->state = ST_RELAY;
  splice_no_delay(c); /* here, on the caller's thread: set before splice() returns */
  post_add(e, c);
  return NULL;
}

/* The admission question given with a hand-off (`admission`: { slot, pinned, expected,
 * trustDomainFallback, plainFd }): the connection is decided on its thread from the table, and
 * with `plainFd` relayed at once. Returns -1 after throwing. */
static int admission_arg(napi_env env, napi_value v, conn *c) {
  napi_valuetype type = napi_undefined;
  napi_typeof(env, v, &type);
  if (type == napi_undefined || type == napi_null) return 0;
  napi_value fd;
  bool has = false;
  if (type != napi_object || admission_request_read(env, v, &c->admit_req) != 0) {
    napi_throw_type_error(env, "ERR_RELAY_NATIVE_ADMISSION", "bad admission question");
    return -1;
  }
  c->admit = 1;
  if (napi_has_named_property(env, v, "plainFd", &has) == napi_ok && has &&
      napi_get_named_property(env, v, "plainFd", &fd) == napi_ok)
    c->b.fd = fd_arg(env, fd);
  return 0;
}

/* tls(engine, id, context, isClient, fd[, sniff[, admission]]): handshake on fd; the result arrives
 * as an event. With sniff (servers only), a first byte that is not a TLS handshake record ends it
 * as "not-tls" with nothing read. */
static napi_value tls_fd(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) { napi_throw_type_error(env, NULL, "missing arguments"); return NULL; }
  bool sniff = false;
  if (argc > 5) napi_get_value_bool(env, argv[5], &sniff);
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  double id;
  SSL_CTX *ctx = NULL;
  bool client = false;
  napi_get_value_double(env, argv[1], &id);
  napi_get_value_external(env, argv[2], (void **)&ctx);
  napi_get_value_bool(env, argv[3], &client);
  int fd = fd_arg(env, argv[4]);
  if (!ctx || SSL_CTX_up_ref(ctx) != 1) {
    napi_throw_error(env, "ERR_RELAY_NATIVE_CREDENTIALS", "could not start TLS on the socket");
    return NULL;
  }
  conn *c = conn_new(id, KIND_TLS, fd, -1);
  c->start_ctx = ctx; /* its thread makes the SSL (relay_tls_start): SSL_new costs the JavaScript thread */
  c->client = client;
  if (argc > 6 && admission_arg(env, argv[6], c) != 0) {
    SSL_CTX_free(ctx);
    close(fd); /* the engine owned it from the call */
    free(c);
    return NULL;
  }
  c->sniff = sniff && !client;
  c->state = ST_HANDSHAKE;
  c->a.readable = c->a.writable = 1;
  post_add(e, c);
  return NULL;
}

static napi_value decide(napi_env env, napi_callback_info info, command_type type) {
  CHECK_ARGS(3);
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  conn *c = NULL;
  napi_get_value_external(env, argv[1], (void **)&c);
  command *cmd = calloc(1, sizeof *cmd);
  cmd->type = type;
  cmd->c = c;
  cmd->fd = type == CMD_ACCEPT ? fd_arg(env, argv[2]) : -1;
  worker_post(c->w, cmd);
  return NULL;
}

/* accept(engine, conn, plainFd) / reject(engine, conn, 0): JavaScript's answer to a handshake. */
static napi_value accept_conn(napi_env env, napi_callback_info info) { return decide(env, info, CMD_ACCEPT); }
static napi_value reject_conn(napi_env env, napi_callback_info info) { return decide(env, info, CMD_REJECT); }

/* abort(engine, id): resets a relaying or handshaking connection; every thread looks for it. */
static napi_value abort_conn(napi_env env, napi_callback_info info) {
  CHECK_ARGS(2);
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  double id;
  napi_get_value_double(env, argv[1], &id);
  for (int i = 0; i < e->n_workers; i++) {
    command *cmd = calloc(1, sizeof *cmd);
    cmd->type = CMD_ABORT;
    cmd->js_id = id;
    worker_post(&e->workers[i], cmd);
  }
  return NULL;
}

/* takeFd(fd): a non-blocking close-on-exec duplicate the engine will own. */
static napi_value take_fd(napi_env env, napi_callback_info info) {
  CHECK_ARGS(1);
  int fd = fcntl(fd_arg(env, argv[0]), F_DUPFD_CLOEXEC, 3);
  if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
    napi_throw_error(env, "ERR_RELAY_NATIVE_HANDOFF", strerror(errno));
    if (fd >= 0) close(fd);
    return NULL;
  }
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/* stats(engine) → { connections, bytes } summed over threads (bytes of closed connections). */
static napi_value stats(napi_env env, napi_callback_info info) {
  CHECK_ARGS(1);
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  double connections = 0, bytes = 0;
  for (int i = 0; i < e->n_workers; i++) {
    connections += (double)atomic_load(&e->workers[i].connections);
    bytes += (double)atomic_load(&e->workers[i].bytes);
  }
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_double(env, connections, &v);
  napi_set_named_property(env, out, "connections", v);
  napi_create_double(env, bytes, &v);
  napi_set_named_property(env, out, "bytes", v);
  return out;
}

/* crashForTesting(engine, signal): engine thread 0 dereferences NULL (signal 0) or raises the
 * signal on itself, as another process's tgkill would: crashes must stop the process loudly. */
static napi_value crash_for_testing(napi_env env, napi_callback_info info) {
  CHECK_ARGS(2);
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  command *cmd = calloc(1, sizeof *cmd);
  cmd->type = CMD_CRASH;
  napi_get_value_int32(env, argv[1], &cmd->arg);
  worker_post(&e->workers[0], cmd);
  return NULL;
}

/* stallForTesting(engine, thread, ms): that thread stops turning for ms (a hung thread). */
static napi_value stall_for_testing(napi_env env, napi_callback_info info) {
  CHECK_ARGS(3);
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  uint32_t thread = 0;
  napi_get_value_uint32(env, argv[1], &thread);
  if (thread >= (uint32_t)e->n_workers) {
    napi_throw_range_error(env, NULL, "no such engine thread");
    return NULL;
  }
  command *cmd = calloc(1, sizeof *cmd);
  cmd->type = CMD_STALL;
  napi_get_value_int32(env, argv[2], &cmd->arg);
  worker_post(&e->workers[thread], cmd);
  return NULL;
}

/* heartbeats(engine) → [{ turns, sinceMs }] per thread: loop turns so far, and how long ago the
 * last one began (an idle thread turns every 250 ms; a thread that stopped turning is stuck). */
static napi_value heartbeats(napi_env env, napi_callback_info info) {
  CHECK_ARGS(1);
  engine *e = engine_of(env, argv[0]);
  if (!e) return NULL;
  uint64_t now = engine_now_ms();
  napi_value out, item, v;
  napi_create_array_with_length(env, (size_t)e->n_workers, &out);
  for (int i = 0; i < e->n_workers; i++) {
    uint64_t last = atomic_load(&e->workers[i].last_turn_ms);
    napi_create_object(env, &item);
    napi_create_double(env, (double)atomic_load(&e->workers[i].turns), &v);
    napi_set_named_property(env, item, "turns", v);
    napi_create_double(env, now > last ? (double)(now - last) : 0, &v);
    napi_set_named_property(env, item, "sinceMs", v);
    napi_set_element(env, out, (uint32_t)i, item);
  }
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"createEngine", NULL, create_engine, NULL, NULL, NULL, napi_default, NULL},
      {"closeEngine", NULL, close_engine, NULL, NULL, NULL, napi_default, NULL},
      {"setRef", NULL, set_ref, NULL, NULL, NULL, napi_default, NULL},
      {"splice", NULL, splice_fds, NULL, NULL, NULL, napi_default, NULL},
      {"tls", NULL, tls_fd, NULL, NULL, NULL, napi_default, NULL},
      {"accept", NULL, accept_conn, NULL, NULL, NULL, napi_default, NULL},
      {"reject", NULL, reject_conn, NULL, NULL, NULL, napi_default, NULL},
      {"abort", NULL, abort_conn, NULL, NULL, NULL, napi_default, NULL},
      {"takeFd", NULL, take_fd, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL},
      {"createTlsContext", NULL, relay_tls_context_create, NULL, NULL, NULL, napi_default, NULL},
      {"heartbeats", NULL, heartbeats, NULL, NULL, NULL, napi_default, NULL},
      {"crashForTesting", NULL, crash_for_testing, NULL, NULL, NULL, napi_default, NULL},
      {"stallForTesting", NULL, stall_for_testing, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  h2_define(env, exports);
  admission_define(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
