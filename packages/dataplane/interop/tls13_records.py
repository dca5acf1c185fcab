"""TLS 1.3 records written by hand after a real handshake, from outside Node.

Python's ssl (Debian's OpenSSL) makes a TLS 1.3 connection with a client certificate and writes
the client's traffic secret to a key log; from then on this script writes the client's records
itself (RFC 8446 section 5: AEAD with python3-cryptography, section 7: key schedule and
KeyUpdate), which neither Python's ssl nor Go's crypto/tls can be asked to do. Only the sending
direction is taken over: replies are read through Python's ssl, whose receiving state is intact.

usage: tls13_records.py HOST PORT CERT_DIR MODE SECONDS [CONNECTIONS] [SOURCE_IP]
       (SECONDS is not used with echo:N)
  MODE keyupdate            KeyUpdate messages (update_not_requested), no application data
       keyupdate-requested  the same, each asking the peer to update its own keys too
       keyupdate-data       a KeyUpdate, then a 1-byte application data record, in turn
       tiny                 1-byte application data records
       empty-data           an empty application data record, then a 1-byte one, in turn (OpenSSL
                            refuses only 32 empty records in a row)
       echo:N               N KeyUpdates, then one line of data, read back from an echo app:
                            proves the records and the key schedule are right
       MODE+h2              the same, offering ALPN h2, the data bytes a valid HTTP/2 connection
                            (preface, SETTINGS, then frames of an unknown type, which a server must
                            ignore) one byte a record, so an HTTP/2 server reads on instead of
                            failing the preface
  CONNECTIONS connections in parallel (default 1), each reconnecting when the peer closes it,
  until SECONDS have passed. Prints one JSON object.
"""
import hashlib
import hmac
import json
import os
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

SUITES = {  # name: (AEAD, key length, hash)
    "TLS_AES_128_GCM_SHA256": (AESGCM, 16, hashlib.sha256),
    "TLS_AES_256_GCM_SHA384": (AESGCM, 32, hashlib.sha384),
    "TLS_CHACHA20_POLY1305_SHA256": (ChaCha20Poly1305, 32, hashlib.sha256),
}
HANDSHAKE, APPLICATION_DATA = 22, 23
KEY_UPDATE = 24


def expand_label(secret, label, length, digest):
    """HKDF-Expand-Label with an empty context (RFC 8446 section 7.1)."""
    full = b"tls13 " + label
    info = struct.pack(">HB", length, len(full)) + full + b"\x00"
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([i]), digest).digest()
        out, i = out + block, i + 1
    return out[:length]


class Writer:
    """The client's sending half: one traffic secret, its key, IV and record sequence number."""

    def __init__(self, sock, suite, secret):
        self.sock, self.secret = sock, secret
        self.aead_class, self.key_len, self.digest = SUITES[suite]
        self._derive()

    def _derive(self):
        self.aead = self.aead_class(expand_label(self.secret, b"key", self.key_len, self.digest))
        self.iv = expand_label(self.secret, b"iv", 12, self.digest)
        self.seq = 0

    def record(self, content_type, content):
        inner = content + bytes([content_type])
        header = struct.pack(">BHH", APPLICATION_DATA, 0x0303, len(inner) + 16)
        nonce = bytes(a ^ b for a, b in zip(self.iv, self.seq.to_bytes(12, "big")))
        self.seq += 1
        return header + self.aead.encrypt(nonce, inner, header)

    def key_update(self, requested):
        out = self.record(HANDSHAKE, bytes([KEY_UPDATE, 0, 0, 1, 1 if requested else 0]))
        hash_len = self.digest().digest_size
        self.secret = expand_label(self.secret, b"traffic upd", hash_len, self.digest)
        self._derive()
        return out


def connect(host, port, cert_dir, source, h2=False):
    keylog = tempfile.NamedTemporaryFile(prefix="tls13-keylog-", delete=False)
    keylog.close()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the attacker does not care who the server is
    ctx.load_cert_chain(f"{cert_dir}/cert-chain.pem", f"{cert_dir}/key.pem")
    ctx.keylog_filename = keylog.name
    if h2:
        ctx.set_alpn_protocols(["h2"])  # an HTTP/2 server only reads a peer that asked for it
    raw = socket.create_connection((host, port), timeout=5, source_address=(source, 0) if source else None)
    tls = ctx.wrap_socket(raw)  # `raw` is detached: records go out through a copy of the descriptor
    out = socket.socket(tls.family, tls.type, fileno=os.dup(tls.fileno()))
    with open(keylog.name) as f:
        lines = [line.split() for line in f if line.startswith("CLIENT_TRAFFIC_SECRET_0 ")]
    os.unlink(keylog.name)
    if not lines:
        raise RuntimeError("no CLIENT_TRAFFIC_SECRET_0 in the key log")
    return tls, Writer(out, tls.cipher()[0], bytes.fromhex(lines[-1][2]))


class DataBytes:
    """The application data, one byte at a time: "x" forever, or an HTTP/2 connection's bytes."""

    PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # + empty SETTINGS
    UNKNOWN = bytes([0, 0x40, 0, 0xFA, 0, 0, 0, 0, 0]) + bytes(0x4000)  # 16 KiB frame of type 0xfa

    def __init__(self, h2):
        self.stream, self.at = (self.PREFACE, 0) if h2 else (b"x", 0)
        self.h2 = h2

    def next(self):
        if self.at == len(self.stream):
            self.stream, self.at = (self.UNKNOWN if self.h2 else self.stream), 0
        self.at += 1
        return self.stream[self.at - 1:self.at]


def batch(writer, mode, data, size=64):
    """`size` steps of the flood as one buffer, and how many KeyUpdates it holds."""
    out, updates = [], 0
    for _ in range(size):
        if mode in ("keyupdate", "keyupdate-requested", "keyupdate-data"):
            out.append(writer.key_update(mode == "keyupdate-requested"))
            updates += 1
        if mode == "empty-data":
            out.append(writer.record(APPLICATION_DATA, b""))
        if mode in ("keyupdate-data", "tiny", "empty-data"):
            out.append(writer.record(APPLICATION_DATA, data.next()))
    return b"".join(out), updates, len(out)


def peer_closed(sock):
    """Drains what the peer sent (unread, undecrypted); True once it closed."""
    try:
        while True:
            data = sock.recv(65536, socket.MSG_DONTWAIT)
            if not data:
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def flood_one(host, port, cert_dir, mode, until, source, tally, lock):
    while time.monotonic() < until:
        try:
            tls, writer = connect(host, port, cert_dir, source, mode.endswith("+h2"))
        except (OSError, RuntimeError, ssl.SSLError) as error:
            with lock:
                tally["failed_connections"] += 1
                tally["errors"][type(error).__name__] = tally["errors"].get(type(error).__name__, 0) + 1
            time.sleep(0.05)
            continue
        sock, updates, records, started = writer.sock, 0, 0, time.monotonic()
        closed, stream = False, DataBytes(mode.endswith("+h2"))
        try:
            while time.monotonic() < until:
                data, n, r = batch(writer, mode.removesuffix("+h2"), stream)
                sock.sendall(data)
                updates, records = updates + n, records + r
                if peer_closed(sock):
                    closed = True
                    break
        except OSError:
            closed = True
        with lock:
            tally["connections"] += 1
            tally["key_updates"] += updates
            tally["records"] += records
            tally["closed_by_server"] += 1 if closed else 0
            tally["most_key_updates_one_connection"] = max(tally["most_key_updates_one_connection"], updates)
            tally["most_records_one_connection"] = max(tally["most_records_one_connection"], records)
            if closed:
                tally["longest_connection_s"] = max(tally["longest_connection_s"], time.monotonic() - started)
        sock.close()
        tls.close()


def flood(host, port, cert_dir, mode, seconds, connections, source):
    tally = {"mode": mode, "connections": 0, "failed_connections": 0, "key_updates": 0, "records": 0,
             "closed_by_server": 0, "most_key_updates_one_connection": 0, "most_records_one_connection": 0,
             "longest_connection_s": 0.0, "errors": {}}
    lock = threading.Lock()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=flood_one, args=(host, port, cert_dir, mode, until, source, tally, lock))
               for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tally["longest_connection_s"] = round(tally["longest_connection_s"], 3)
    return tally


def echo(host, port, cert_dir, updates, source):
    tls, writer = connect(host, port, cert_dir, source)
    line = b"after %d key updates\n" % updates
    for _ in range(updates):
        writer.sock.sendall(writer.key_update(False))
    writer.sock.sendall(writer.record(APPLICATION_DATA, line))
    tls.settimeout(5)
    got = b""
    try:
        while len(got) < len(line):
            data = tls.recv(4096)
            if not data:
                break
            got += data
    except (OSError, ssl.SSLError) as error:
        return {"key_updates": updates, "echoed": got.decode(errors="replace"), "error": str(error)}
    writer.sock.close()
    tls.close()
    return {"key_updates": updates, "echoed": got.decode(errors="replace")}


def main(argv):
    host, port, cert_dir, mode, seconds = argv[0], int(argv[1]), argv[2], argv[3], float(argv[4])
    connections = int(argv[5]) if len(argv) > 5 else 1
    source = argv[6] if len(argv) > 6 else None
    if mode.startswith("echo:"):
        result = echo(host, port, cert_dir, int(mode[5:]), source)
    else:
        result = flood(host, port, cert_dir, mode, seconds, connections, source)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
