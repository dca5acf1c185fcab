// A stand-in for Windows' computenetwork.dll (and vmcompute.dll's HNSCall), for tests on Linux.
// Same exported names and ABI as the HCN C API: UTF-16 (char16_t) strings, int32_t HRESULTs,
// GUIDs by pointer, output strings allocated here and released with this library's own
// CoTaskMemFree. It keeps endpoints, namespaces and their policies in memory, seeded from a JSON
// file, and behaves as HNS does for what Switchyard relies on: unknown endpoints, malformed JSON,
// unknown policy types, duplicate policies, removal by exact match, error records.
//
// Test hooks (not part of the HCN API): StandinLoad(path) reseeds the state, StandinOutstanding()
// counts strings handed out and not yet freed, StandinCallCount() counts HCN calls made.
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uchar.h>

typedef int32_t HRESULT;
typedef struct { uint32_t Data1; uint16_t Data2; uint16_t Data3; uint8_t Data4[8]; } GUID;

#define S_OK 0
#define E_INVALIDARG ((HRESULT)0x80070057)
#define E_POINTER ((HRESULT)0x80004003)
#define HCN_E_ENDPOINT_NOT_FOUND ((HRESULT)0x803B0002)
#define HCN_E_POLICY_NOT_FOUND ((HRESULT)0x803B0008)
#define HCN_E_INVALID_POLICY ((HRESULT)0x803B000D)
#define HCN_E_INVALID_POLICY_TYPE ((HRESULT)0x803B000E)
#define HCN_E_POLICY_ALREADY_EXISTS ((HRESULT)0x803B0012)
#define HCN_E_REQUEST_UNSUPPORTED ((HRESULT)0x803B0015)
#define HCN_E_INVALID_JSON ((HRESULT)0x803B001B)
#define HCN_E_NAMESPACE_NOT_FOUND ((HRESULT)0x803B0021)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cJSON* state;  // {"Version":{"Major","Minor"},"Endpoints":[…],"Namespaces":[…]}
static long outstanding;
static long calls;

typedef struct { char kind; char id[40]; } handle_t;

// ---- UTF-16 <-> UTF-8 -------------------------------------------------------------------------

static char* to_utf8(const char16_t* s) {
  if (!s) return NULL;
  size_t n = 0;
  while (s[n]) n++;
  char* out = malloc(n * 3 + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = s[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (s[++i] - 0xDC00);
    }
    if (c < 0x80) out[o++] = (char)c;
    else if (c < 0x800) { out[o++] = (char)(0xC0 | c >> 6); out[o++] = (char)(0x80 | (c & 0x3F)); }
    else if (c < 0x10000) { out[o++] = (char)(0xE0 | c >> 12); out[o++] = (char)(0x80 | ((c >> 6) & 0x3F)); out[o++] = (char)(0x80 | (c & 0x3F)); }
    else { out[o++] = (char)(0xF0 | c >> 18); out[o++] = (char)(0x80 | ((c >> 12) & 0x3F)); out[o++] = (char)(0x80 | ((c >> 6) & 0x3F)); out[o++] = (char)(0x80 | (c & 0x3F)); }
  }
  out[o] = 0;
  return out;
}

// Allocates a UTF-16 copy that the caller must release with CoTaskMemFree.
static char16_t* to_utf16(const char* s) {
  size_t n = strlen(s);
  char16_t* out = malloc((n + 1) * sizeof(char16_t));
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    unsigned char b = (unsigned char)s[i];
    uint32_t c;
    if (b < 0x80) { c = b; i += 1; }
    else if ((b & 0xE0) == 0xC0) { c = ((b & 0x1F) << 6) | (s[i + 1] & 0x3F); i += 2; }
    else if ((b & 0xF0) == 0xE0) { c = ((b & 0x0F) << 12) | ((s[i + 1] & 0x3F) << 6) | (s[i + 2] & 0x3F); i += 3; }
    else { c = ((b & 0x07) << 18) | ((s[i + 1] & 0x3F) << 12) | ((s[i + 2] & 0x3F) << 6) | (s[i + 3] & 0x3F); i += 4; }
    if (c >= 0x10000) { c -= 0x10000; out[o++] = (char16_t)(0xD800 + (c >> 10)); out[o++] = (char16_t)(0xDC00 + (c & 0x3FF)); }
    else out[o++] = (char16_t)c;
  }
  out[o] = 0;
  outstanding++;
  return out;
}

void CoTaskMemFree(void* p) {
  if (!p) return;
  pthread_mutex_lock(&lock);
  outstanding--;
  pthread_mutex_unlock(&lock);
  free(p);
}

static void give(char16_t** out, const char* text) {
  if (out) *out = to_utf16(text);
}

static void give_json(char16_t** out, cJSON* value) {
  char* text = cJSON_PrintUnformatted(value);
  give(out, text);
  free(text);
}

// HNS puts a JSON error record beside a failing HRESULT.
static HRESULT fail(char16_t** record, HRESULT hr, const char* message) {
  char buffer[1024];
  cJSON* r = cJSON_CreateObject();
  snprintf(buffer, sizeof buffer, "0x%08X", (uint32_t)hr);
  cJSON_AddStringToObject(r, "Error", message);
  cJSON_AddStringToObject(r, "ErrorCode", buffer);
  cJSON_AddBoolToObject(r, "Success", 0);
  give_json(record, r);
  cJSON_Delete(r);
  return hr;
}

// ---- state --------------------------------------------------------------------------------------

int StandinLoad(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* text = malloc(size + 1);
  size_t got = fread(text, 1, size, f);
  fclose(f);
  text[got] = 0;
  cJSON* parsed = cJSON_Parse(text);
  free(text);
  if (!parsed) return -2;
  pthread_mutex_lock(&lock);
  cJSON_Delete(state);
  state = parsed;
  calls = 0;
  pthread_mutex_unlock(&lock);
  return 0;
}

long StandinOutstanding(void) { return outstanding; }
long StandinCallCount(void) { return calls; }

static cJSON* ensure_state(void) {
  if (!state) {
    const char* path = getenv("HCN_STANDIN_STATE");
    if (!path || StandinLoad(path) != 0) state = cJSON_Parse("{\"Version\":{\"Major\":15,\"Minor\":1},\"Endpoints\":[],\"Namespaces\":[]}");
  }
  return state;
}

static void guid_text(const GUID* g, char* out) {
  snprintf(out, 40, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", g->Data1, g->Data2, g->Data3, g->Data4[0], g->Data4[1],
           g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6], g->Data4[7]);
}

static cJSON* find(const char* list, const char* id) {
  cJSON* item;
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(ensure_state(), list)) {
    cJSON* item_id = cJSON_GetObjectItemCaseSensitive(item, "ID");
    if (cJSON_IsString(item_id) && strcasecmp(item_id->valuestring, id) == 0) return item;
  }
  return NULL;
}

// A query is {"SchemaVersion":…, "Flags":…, "Filter": "<JSON text>"}; both levels must parse.
static int valid_query(const char16_t* query) {
  if (!query) return 1;
  char* text = to_utf8(query);
  cJSON* q = cJSON_Parse(text);
  free(text);
  if (!q) return 0;
  cJSON* filter = cJSON_GetObjectItemCaseSensitive(q, "Filter");
  int ok = 1;
  if (cJSON_IsString(filter) && filter->valuestring[0]) {
    cJSON* inner = cJSON_Parse(filter->valuestring);
    ok = inner != NULL;
    cJSON_Delete(inner);
  }
  cJSON_Delete(q);
  return ok;
}

static HRESULT enumerate(const char* list, const char16_t* query, char16_t** result, char16_t** record) {
  if (record) *record = NULL;
  if (!result) return E_POINTER;
  if (!valid_query(query)) return fail(record, HCN_E_INVALID_JSON, "The query is not valid JSON");
  cJSON* ids = cJSON_CreateArray();
  cJSON* item;
  cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(ensure_state(), list)) {
    cJSON_AddItemToArray(ids, cJSON_CreateString(cJSON_GetObjectItemCaseSensitive(item, "ID")->valuestring));
  }
  give_json(result, ids);
  cJSON_Delete(ids);
  return S_OK;
}

static HRESULT open_item(char kind, const char* list, const GUID* id, void** handle, char16_t** record) {
  if (record) *record = NULL;
  if (!id || !handle) return E_POINTER;
  char text[40];
  guid_text(id, text);
  if (!find(list, text)) {
    char message[128];
    snprintf(message, sizeof message, "%s %s not found", kind == 'e' ? "Endpoint" : "Namespace", text);
    return fail(record, kind == 'e' ? HCN_E_ENDPOINT_NOT_FOUND : HCN_E_NAMESPACE_NOT_FOUND, message);
  }
  handle_t* h = malloc(sizeof *h);
  h->kind = kind;
  memcpy(h->id, text, sizeof h->id);
  *handle = h;
  return S_OK;
}

static HRESULT query_item(const char* list, void* handle, const char16_t* query, char16_t** props, char16_t** record) {
  if (record) *record = NULL;
  if (!handle || !props) return E_POINTER;
  if (!valid_query(query)) return fail(record, HCN_E_INVALID_JSON, "The query is not valid JSON");
  cJSON* item = find(list, ((handle_t*)handle)->id);
  if (!item) return fail(record, HCN_E_ENDPOINT_NOT_FOUND, "The object was deleted");
  give_json(props, item);
  return S_OK;
}

// ---- the HCN API --------------------------------------------------------------------------------

#define ENTER() pthread_mutex_lock(&lock); calls++
#define LEAVE(value) do { HRESULT r_ = (value); pthread_mutex_unlock(&lock); return r_; } while (0)

HRESULT HcnEnumerateEndpoints(const char16_t* query, char16_t** endpoints, char16_t** record) {
  ENTER();
  LEAVE(enumerate("Endpoints", query, endpoints, record));
}

HRESULT HcnEnumerateNamespaces(const char16_t* query, char16_t** namespaces, char16_t** record) {
  ENTER();
  LEAVE(enumerate("Namespaces", query, namespaces, record));
}

HRESULT HcnOpenEndpoint(const GUID* id, void** endpoint, char16_t** record) {
  ENTER();
  LEAVE(open_item('e', "Endpoints", id, endpoint, record));
}

HRESULT HcnOpenNamespace(const GUID* id, void** ns, char16_t** record) {
  ENTER();
  LEAVE(open_item('n', "Namespaces", id, ns, record));
}

HRESULT HcnQueryEndpointProperties(void* endpoint, const char16_t* query, char16_t** props, char16_t** record) {
  ENTER();
  LEAVE(query_item("Endpoints", endpoint, query, props, record));
}

HRESULT HcnQueryNamespaceProperties(void* ns, const char16_t* query, char16_t** props, char16_t** record) {
  ENTER();
  LEAVE(query_item("Namespaces", ns, query, props, record));
}

HRESULT HcnCloseEndpoint(void* endpoint) {
  free(endpoint);
  return S_OK;
}

HRESULT HcnCloseNamespace(void* ns) {
  free(ns);
  return S_OK;
}

static const char* L4_KEYS[] = {"InboundProxyPort", "OutboundProxyPort", "FilterTuple", "UserSID", "InboundExceptions", "OutboundExceptions", NULL};
static const char* KNOWN_TYPES[] = {"L4WFPPROXY", "L4Proxy", "OutBoundNAT", "PortMapping", "ACL", "SDNRoute", NULL};

static int listed(const char* const* list, const char* key) {
  for (; *list; list++) if (strcmp(*list, key) == 0) return 1;
  return 0;
}

static int valid_port_text(const cJSON* v) {
  if (!cJSON_IsString(v)) return 0;
  char* end;
  long port = strtol(v->valuestring, &end, 10);
  return *v->valuestring && !*end && port >= 1 && port <= 65535;
}

// The checks HNS makes on an L4WFPPROXY policy that Switchyard could get wrong.
static const char* check_l4wfpproxy(const cJSON* settings) {
  if (!cJSON_IsObject(settings)) return "L4WFPPROXY Settings must be an object";
  const cJSON* field;
  cJSON_ArrayForEach(field, settings) if (!listed(L4_KEYS, field->string)) return "L4WFPPROXY Settings has an unknown field";
  const cJSON* in = cJSON_GetObjectItemCaseSensitive(settings, "InboundProxyPort");
  const cJSON* out = cJSON_GetObjectItemCaseSensitive(settings, "OutboundProxyPort");
  if (!in && !out) return "L4WFPPROXY needs InboundProxyPort or OutboundProxyPort";
  if ((in && !valid_port_text(in)) || (out && !valid_port_text(out))) return "proxy ports must be strings holding 1-65535";
  const char* exceptions[] = {"InboundExceptions", "OutboundExceptions"};
  for (int i = 0; i < 2; i++) {
    const cJSON* e = cJSON_GetObjectItemCaseSensitive(settings, exceptions[i]);
    if (!e) continue;
    const cJSON* ports = cJSON_GetObjectItemCaseSensitive(e, "PortExceptions");
    const cJSON* p;
    cJSON_ArrayForEach(p, ports) if (!valid_port_text(p)) return "PortExceptions must be strings holding 1-65535";
  }
  return NULL;
}

static cJSON* find_policy(cJSON* policies, const cJSON* wanted) {
  cJSON* p;
  cJSON_ArrayForEach(p, policies) if (cJSON_Compare(p, wanted, 1)) return p;
  return NULL;
}

HRESULT HcnModifyEndpoint(void* endpoint, const char16_t* settings, char16_t** record) {
  ENTER();
  if (record) *record = NULL;
  if (!endpoint || !settings) LEAVE(E_POINTER);
  cJSON* item = find("Endpoints", ((handle_t*)endpoint)->id);
  if (!item) LEAVE(fail(record, HCN_E_ENDPOINT_NOT_FOUND, "The endpoint was deleted"));
  char* text = to_utf8(settings);
  cJSON* request = cJSON_Parse(text);
  free(text);
  if (!request) LEAVE(fail(record, HCN_E_INVALID_JSON, "The request is not valid JSON"));
  const cJSON* resource = cJSON_GetObjectItemCaseSensitive(request, "ResourceType");
  const cJSON* type = cJSON_GetObjectItemCaseSensitive(request, "RequestType");
  const cJSON* list = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(request, "Settings"), "Policies");
  HRESULT hr = S_OK;
  if (!cJSON_IsString(resource) || strcmp(resource->valuestring, "Policy") != 0 || !cJSON_IsString(type) || !cJSON_IsArray(list)) {
    hr = fail(record, HCN_E_REQUEST_UNSUPPORTED, "Expected {ResourceType: Policy, RequestType, Settings: {Policies: [...]}}");
  } else if (strcmp(type->valuestring, "Add") != 0 && strcmp(type->valuestring, "Remove") != 0) {
    hr = fail(record, HCN_E_REQUEST_UNSUPPORTED, "RequestType must be Add or Remove");
  }
  cJSON* policies = cJSON_GetObjectItemCaseSensitive(item, "Policies");
  if (!policies) policies = cJSON_AddArrayToObject(item, "Policies");
  const cJSON* p;
  // Validate the whole request first: HNS applies all of it or none of it.
  if (hr == S_OK) cJSON_ArrayForEach(p, list) {
    const cJSON* ptype = cJSON_GetObjectItemCaseSensitive(p, "Type");
    if (!cJSON_IsString(ptype) || !listed(KNOWN_TYPES, ptype->valuestring)) { hr = fail(record, HCN_E_INVALID_POLICY_TYPE, "Unknown policy type"); break; }
    if (strcmp(type->valuestring, "Add") == 0) {
      const char* problem = strcmp(ptype->valuestring, "L4WFPPROXY") == 0 ? check_l4wfpproxy(cJSON_GetObjectItemCaseSensitive(p, "Settings")) : NULL;
      if (problem) { hr = fail(record, HCN_E_INVALID_POLICY, problem); break; }
      if (find_policy(policies, p)) { hr = fail(record, HCN_E_POLICY_ALREADY_EXISTS, "The policy already exists on the endpoint"); break; }
    } else if (!find_policy(policies, p)) {
      hr = fail(record, HCN_E_POLICY_NOT_FOUND, "No policy on the endpoint matches the one to remove");
      break;
    }
  }
  if (hr == S_OK) cJSON_ArrayForEach(p, list) {
    if (strcmp(type->valuestring, "Add") == 0) cJSON_AddItemToArray(policies, cJSON_Duplicate(p, 1));
    else cJSON_Delete(cJSON_DetachItemViaPointer(policies, find_policy(policies, p)));
  }
  cJSON_Delete(request);
  LEAVE(hr);
}

// vmcompute.dll: HNSCall(method, path, request, response). Only GET /globals/version is served.
HRESULT HNSCall(const char16_t* method, const char16_t* path, const char16_t* request, char16_t** response) {
  (void)request;
  ENTER();
  if (!response) LEAVE(E_POINTER);
  char* m = to_utf8(method);
  char* p = to_utf8(path);
  cJSON* r = cJSON_CreateObject();
  if (m && p && strcmp(m, "GET") == 0 && strcmp(p, "/globals/version") == 0) {
    cJSON_AddBoolToObject(r, "Success", 1);
    cJSON_AddItemToObject(r, "Output", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(ensure_state(), "Version"), 1));
  } else {
    cJSON_AddBoolToObject(r, "Success", 0);
    cJSON_AddStringToObject(r, "Error", "not served by the stand-in");
  }
  free(m);
  free(p);
  give_json(response, r);
  cJSON_Delete(r);
  LEAVE(S_OK);
}
