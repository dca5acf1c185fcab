{
  "targets": [
    {
      "target_name": "switchyard_tproxy",
      "sources": ["native/transparent.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
