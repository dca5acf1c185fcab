{
  "variables": {
    "relay_sources": [
      "native/addon.c",
      "native/crash.c",
      "native/events.c",
      "native/loop.c",
      "native/peer_identity.c",
      "native/splice_relay.c",
      "native/tls_context.c",
      "native/tls_limits.c",
      "native/tls_relay.c"
    ]
  },
  "targets": [
    {
      "target_name": "switchyard_relay",
      "sources": ["<@(relay_sources)"],
      "cflags": ["-Wall", "-Wextra", "-O2", "-fvisibility=hidden", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-fno-strict-aliasing"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "switchyard_relay_asan",
      "sources": ["<@(relay_sources)"],
      "cflags": ["-Wall", "-Wextra", "-O1", "-fvisibility=hidden", "-g", "-fsanitize=address", "-fno-omit-frame-pointer"],
      "ldflags": ["-fsanitize=address"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
