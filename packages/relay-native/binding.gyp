{
  "variables": {
    "relay_sources": [
      "native/addon.c",
      "native/admission.c",
      "native/admission_addon.c",
      "native/admission_stream.c",
      "native/crash.c",
      "native/events.c",
      "native/h2_addon.c",
      "native/h2_admit.c",
      "native/h2_callbacks.c",
      "native/h2_commands.c",
      "native/h2_link.c",
      "native/h2_session.c",
      "native/h2_stream.c",
      "native/h2_tls.c",
      "native/loop.c",
      "native/peer_identity.c",
      "native/splice_relay.c",
      "native/tls_context.c",
      "native/tls_limits.c",
      "native/tls_relay.c",
      "native/tls_resume.c"
    ],
    "comment": "nghttp2 from Debian's libnghttp2-dev, linked statically with its symbols hidden: Node exports its own nghttp2 (another version), which would otherwise take our calls",
    "nghttp2_libs": ["-Wl,--exclude-libs,libnghttp2.a", "-l:libnghttp2.a"]
  },
  "targets": [
    {
      "target_name": "switchyard_relay",
      "sources": ["<@(relay_sources)"],
      "libraries": ["<@(nghttp2_libs)"],
      "cflags": ["-Wall", "-Wextra", "-O2", "-fvisibility=hidden", "-fstack-protector-strong", "-D_FORTIFY_SOURCE=2", "-fno-strict-aliasing"],
      "defines": ["NAPI_VERSION=8"]
    },
    {
      "target_name": "switchyard_relay_asan",
      "sources": ["<@(relay_sources)"],
      "cflags": ["-Wall", "-Wextra", "-O1", "-fvisibility=hidden", "-g", "-fsanitize=address", "-fno-omit-frame-pointer"],
      "ldflags": ["-fsanitize=address"],
      "libraries": ["<@(nghttp2_libs)"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
