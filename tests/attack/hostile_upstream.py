"""A hostile upstream for a proxy's outbound side, and the clients that make the proxy dial it
(Debian's python3, its ssl and python3-h2: not the proxy's implementations).

usage: hostile_upstream.py flood CERT_DIR ADDRESS PORT KIND SECONDS -> an HBONE server (mTLS, ALPN h2)
           on ADDRESS:PORT that, on every connection the proxy's client opens, floods KIND frames
           (window: WINDOW_UPDATE, ping: PING, settings: empty SETTINGS) as fast as the socket takes
           them, until the proxy cuts it; for SECONDS
       hostile_upstream.py echo ADDRESS PORT SECONDS -> a plain TCP echo server
       hostile_upstream.py tls-echo CERT_DIR ADDRESS PORT SECONDS -> the same behind mTLS (a legitimate
           mTLS upstream)
       hostile_upstream.py dial HOST PORT SECONDS -> connects to HOST:PORT (through the proxy's capture)
           once every 50 ms, sends a line and waits up to 2 s for its echo; for SECONDS
Each prints one JSON object when it is done.
"""
import json
import socket
import ssl
import sys
import threading
import time

import h2.config
import h2.connection


def server_context(cert_dir):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(f"{cert_dir}/root-cert.pem")
    ctx.load_cert_chain(f"{cert_dir}/cert-chain.pem", f"{cert_dir}/key.pem")
    ctx.set_alpn_protocols(["h2"])
    return ctx


def frames_of(kind, conn, count):
    # `count` frames of KIND, from python3-h2's own encoder.
    for i in range(count):
        if kind == "window":
            conn.increment_flow_control_window(1)
        elif kind == "ping":
            conn.ping(i.to_bytes(8, "big"))
        else:
            conn.update_settings({})
    return conn.data_to_send()


def flood_one(tls, kind, until, tally):
    # The server's preface (SETTINGS), then KIND frames until the proxy cuts the connection.
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    frames = 0
    try:
        tls.sendall(conn.data_to_send())
        tls.settimeout(5)
        while time.monotonic() < until:
            tls.sendall(frames_of(kind, conn, 1000))
            frames += 1000
    except (OSError, ssl.SSLError):
        pass
    finally:
        tally.append(frames)
        tls.close()


def flood(cert_dir, address, port, kind, seconds):
    ctx = server_context(cert_dir)
    listener = socket.create_server((address, int(port)))
    listener.settimeout(0.5)
    until = time.monotonic() + float(seconds)
    tally, threads, failed = [], [], 0
    while time.monotonic() < until:
        try:
            raw, _ = listener.accept()
        except socket.timeout:
            continue
        try:
            raw.settimeout(5)
            tls = ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            failed += 1
            continue
        t = threading.Thread(target=flood_one, args=(tls, kind, until, tally), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(10)
    return {"connections": len(tally), "handshakes_failed": failed, "frames": sorted(tally)}


def echo(address, port, seconds, ctx=None):
    listener = socket.create_server((address, int(port)))
    listener.settimeout(0.5)
    until = time.monotonic() + float(seconds)
    served = 0

    def serve(s):
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    break
                s.sendall(data)
        except OSError:
            pass
        finally:
            s.close()

    while time.monotonic() < until:
        try:
            s, _ = listener.accept()
            if ctx:
                s.settimeout(5)
                s = ctx.wrap_socket(s, server_side=True)
                s.settimeout(None)
        except (OSError, ssl.SSLError):
            continue
        served += 1
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    return {"served": served}


def dial(host, port, seconds):
    until = time.monotonic() + float(seconds)
    tried, ok, errors = 0, 0, {}
    while time.monotonic() < until:
        tried += 1
        line = f"hello {tried}\n".encode()
        try:
            with socket.create_connection((host, int(port)), timeout=2) as s:
                s.settimeout(2)
                s.sendall(line)
                got = b""
                while len(got) < len(line):
                    data = s.recv(65536)
                    if not data:
                        break
                    got += data
                if got == line:
                    ok += 1
                else:
                    errors["short"] = errors.get("short", 0) + 1
        except OSError as e:
            name = type(e).__name__
            errors[name] = errors.get(name, 0) + 1
        time.sleep(0.05)
    return {"tried": tried, "ok": ok, "errors": errors}


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "flood":
        result = flood(*sys.argv[2:7])
    elif mode == "echo":
        result = echo(*sys.argv[2:5])
    elif mode == "tls-echo":
        ctx = server_context(sys.argv[2])
        ctx.set_alpn_protocols(["http/1.1"])
        result = echo(*sys.argv[3:6], ctx=ctx)
    else:
        result = dial(*sys.argv[2:5])
    print(json.dumps(result))
