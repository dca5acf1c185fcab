/* Events go to JavaScript in batches: a worker queues them and wakes the JavaScript thread at most
 * once per loop iteration; the JavaScript thread takes the whole queue at once. */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

void events_push(worker *w, const event *ev) {
  pthread_mutex_lock(&w->lock);
  if (w->n_events == w->cap_events) {
    size_t cap = w->cap_events ? w->cap_events * 2 : 64;
    event *grown = realloc(w->events, cap * sizeof *grown);
    if (!grown) worker_fatal("event queue", 12);
    w->events = grown;
    w->cap_events = cap;
  }
  w->events[w->n_events++] = *ev;
  pthread_mutex_unlock(&w->lock);
}

void events_flush(worker *w) {
  pthread_mutex_lock(&w->lock);
  int wake = w->n_events > 0 && !w->signalled;
  if (wake) w->signalled = 1;
  pthread_mutex_unlock(&w->lock);
  if (wake) napi_call_threadsafe_function(w->engine->tsfn, w, napi_tsfn_nonblocking);
}

static napi_value number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

static napi_value string(napi_env env, const char *s) {
  napi_value out;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &out);
  return out;
}

static void conn_ref_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)data; (void)hint; /* the worker owns the connection */
}

static napi_value event_object(napi_env env, event *ev) {
  if (ev->type >= EV_H2_STREAM) return h2_event_object(env, ev);
  napi_value obj;
  napi_create_object(env, &obj);
  napi_set_named_property(env, obj, "id", number(env, ev->js_id));
  napi_set_named_property(env, obj, "type", string(env, ev->type == EV_HANDSHAKE ? "handshake" : "closed"));
  if (ev->type == EV_CLOSED) {
    napi_set_named_property(env, obj, "up", number(env, (double)ev->up));
    napi_set_named_property(env, obj, "down", number(env, (double)ev->down));
    napi_set_named_property(env, obj, "reason", string(env, CLOSE_REASON_NAMES[ev->reason]));
    napi_set_named_property(env, obj, "detail", string(env, ev->detail));
    return obj;
  }
  napi_value conn_handle, chain;
  if (ev->c) { /* absent when the admission table decided: JavaScript holds no pointer to it */
    napi_create_external(env, ev->c, conn_ref_finalize, NULL, &conn_handle);
    napi_set_named_property(env, obj, "conn", conn_handle);
  }
  napi_set_named_property(env, obj, "spiffeId", string(env, ev->spiffe_id));
  napi_set_named_property(env, obj, "protocol", string(env, ev->protocol ? ev->protocol : ""));
  napi_set_named_property(env, obj, "identityError", string(env, ev->detail));
  napi_value resumed;
  napi_get_boolean(env, ev->resumed != 0, &resumed);
  napi_set_named_property(env, obj, "resumed", resumed);
  if (ev->admitted != ADMIT_ASK) { /* decided on the engine thread from the admission table */
    napi_set_named_property(env, obj, "admitted", string(env, ev->admitted == ADMIT_ACCEPTED ? "accepted" : "refused"));
    napi_set_named_property(env, obj, "refusedCode", string(env, REFUSE_CODE_NAMES[ev->refused]));
  }
  napi_create_buffer_copy(env, ev->chain_len, ev->chain, NULL, &chain);
  napi_set_named_property(env, obj, "chain", chain);
  free(ev->spiffe_id);
  free(ev->chain);
  free(ev->protocol);
  return obj;
}

/* Runs on the JavaScript thread: one call with every event the worker queued. */
void events_deliver(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)context;
  worker *w = data;
  pthread_mutex_lock(&w->lock);
  event *batch = w->events;
  size_t n = w->n_events;
  w->events = NULL;
  w->n_events = w->cap_events = 0;
  w->signalled = 0;
  pthread_mutex_unlock(&w->lock);
  if (!env || !js_cb) {
    for (size_t i = 0; i < n; i++) {
      free(batch[i].spiffe_id);
      free(batch[i].chain);
      free(batch[i].protocol);
      h2_event_free(&batch[i]);
    }
    free(batch);
    return;
  }
  napi_value list, undefined;
  napi_create_array_with_length(env, n, &list);
  for (size_t i = 0; i < n; i++) napi_set_element(env, list, (uint32_t)i, event_object(env, &batch[i]));
  free(batch);
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, js_cb, 1, &list, NULL);
}
