#!/usr/bin/env bash
# Installs the host tools Switchyard's Linux capture, its demo and its tests use, from Debian's
# packages: nft (nftables), ip (iproute2), nsenter (util-linux), and for the demo and interop
# tests tcpdump, curl and openssl, gcc + libcjson-dev for the HNS stand-in library, and
# libnghttp2-dev for the native engine's HTTP/2. Needs root; a no-op when all are present.
set -euo pipefail
missing=()
command -v nft >/dev/null || missing+=(nftables)
command -v ip >/dev/null || missing+=(iproute2)
command -v nsenter >/dev/null || missing+=(util-linux)
command -v tcpdump >/dev/null || missing+=(tcpdump)
command -v curl >/dev/null || missing+=(curl)
command -v openssl >/dev/null || missing+=(openssl)
# The HNS driver's tests build a stand-in computenetwork library against cJSON.
[ -f /usr/include/cjson/cJSON.h ] || missing+=(libcjson-dev)
command -v gcc >/dev/null || missing+=(gcc)
# switchyard-cni and switchyard-runtime are linked statically: the C library's headers and archive.
dpkg -s libc6-dev >/dev/null 2>&1 || missing+=(libc6-dev)
# The CRI tests start a real containerd with the CNI bridge plugin and a busybox app image.
command -v containerd >/dev/null || missing+=(containerd)
command -v runc >/dev/null || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
# The test image copies /bin/busybox and has no libc: it must be the static build.
dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
# The agent's Docker tests (metadata proxying) start a real dockerd of their own.
command -v dockerd >/dev/null || missing+=(docker.io)
# The completion tests run the generated fish script in a real fish.
command -v fish >/dev/null || missing+=(fish)
# pnpm bench measures against these peers, and drives throughput with iperf3.
command -v haproxy >/dev/null || missing+=(haproxy)
command -v stunnel4 >/dev/null || missing+=(stunnel4)
command -v iperf3 >/dev/null || missing+=(iperf3)
# The tproxy driver's tarball ships prebuilt addons for linux-x64 and linux-arm64 (cross-compiled).
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
command -v aarch64-linux-gnu-g++ >/dev/null || missing+=(g++-aarch64-linux-gnu)
# The native engine's HTTP/2 (HBONE) links nghttp2 statically from Debian's archive and headers.
[ -f /usr/include/nghttp2/nghttp2.h ] && [ -f /usr/lib/x86_64-linux-gnu/libnghttp2.a -o -f /usr/lib/aarch64-linux-gnu/libnghttp2.a ] || missing+=(libnghttp2-dev)
# HBONE's interop tests speak HTTP/2 from an independent implementation (Debian's python3).
/usr/bin/python3 -c 'import h2' 2>/dev/null || missing+=(python3-h2)
# ...and TLS 1.3 records (KeyUpdate floods) written by hand with python3-cryptography's AEADs.
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || missing+=(python3-cryptography)
# ...and from a second one: a client on Go's standard-library HTTP/2, built offline by the tests.
command -v go >/dev/null || missing+=(golang-go)
# Debian's kubectl (kubernetes-client) proves the agent tests' Kubernetes API fake faithful. Where
# another package already owns /usr/bin/kubectl, Debian's is unpacked into /opt/debian-kubernetes-client.
if ! dpkg-query -W -f='${Status}' kubernetes-client 2>/dev/null | grep -q 'ok installed' && [ ! -x /opt/debian-kubernetes-client/usr/bin/kubectl ]; then
  if ! dpkg -S /usr/bin/kubectl >/dev/null 2>&1; then
    missing+=(kubernetes-client)
  elif [ "$(id -u)" = 0 ]; then
    echo "system-deps: unpacking Debian's kubernetes-client into /opt/debian-kubernetes-client" >&2
    (cd "$(mktemp -d)" && { apt-get download -qq kubernetes-client 2>/dev/null || { apt-get update -qq && apt-get download -qq kubernetes-client; }; } &&
      dpkg-deb -x kubernetes-client_*.deb /opt/debian-kubernetes-client) >&2
  fi
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing ${missing[*]}; install them as root (sudo apt-get install ${missing[*]}) — the capture tests skip without them" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
