"""Connection-level attacks on a TLS listener, from outside Node (Debian's python3 and its ssl).

usage: tcp_attack.py hold HOST PORT COUNT SECONDS        -> open COUNT TCP connections and say nothing
       tcp_attack.py churn HOST PORT SECONDS MAX         -> connect and close at once, as fast as possible
       tcp_attack.py tls HOST PORT SECONDS MAX CERT_DIR  -> full TLS handshakes with CERT_DIR's certificate
                                                           ("-" for none), a line sent after each
       tcp_attack.py hello-churn HOST PORT SECONDS MAX SOURCES -> a ClientHello, then a FIN at once, from
                                                           each of SOURCES (comma-separated) in turn
       tcp_attack.py ask HOST PORT CERT_DIR              -> mTLS with CERT_DIR's certificate, an HTTP GET
                                                           of /metrics: what came back
       tcp_attack.py download HOST PORT CERT_DIR         -> mTLS, read slowly until the end: how it ended
       tcp_attack.py truncate HOST PORT CERT_DIR BYTES   -> mTLS, BYTES sent, then a FIN without close_notify
Every loop stops after SECONDS or MAX attempts, whichever comes first. Prints one JSON object.
"""
import json
import selectors
import socket
import ssl
import sys
import time


def hold(host, port, count, seconds):
    # Idle connections that never start a handshake: the server must time them out or shed
    # them, never keep them for its own idle timeout.
    socks, refused = [], 0
    for _ in range(count):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect((host, port))
            socks.append(s)
        except OSError:
            refused += 1
            s.close()
    opened = len(socks)
    closed_by_server, first_close = 0, None
    watch = selectors.DefaultSelector()  # epoll: descriptors past 1024 are fine
    for s in socks:
        watch.register(s, selectors.EVENT_READ)
    started = time.monotonic()
    until = started + seconds
    while watch.get_map() and time.monotonic() < until:
        for key, _ in watch.select(0.2):
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed_by_server += 1
                if first_close is None:
                    first_close = time.monotonic() - started
                watch.unregister(key.fileobj)
                key.fileobj.close()
    still_open = len(watch.get_map())
    for s in socks:
        s.close()
    return {"opened": opened, "refused": refused, "closed_by_server": closed_by_server,
            "still_open": still_open, "first_close_s": first_close}


def churn(host, port, seconds, most):
    done, failed = 0, 0
    until = time.monotonic() + seconds
    while done + failed < most and time.monotonic() < until:
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect((host, port))
            done += 1
        except OSError:
            failed += 1
        s.close()
    return {"connected": done, "failed": failed}


def context(cert_dir):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False  # peers are named by SPIFFE ID, not DNS
    ctx.verify_mode = ssl.CERT_NONE  # the attacker does not care who the server is
    if cert_dir != "-":
        ctx.load_cert_chain(f"{cert_dir}/cert-chain.pem", f"{cert_dir}/key.pem")
    return ctx


def tls(host, port, seconds, most, cert_dir):
    # In TLS 1.3 the server checks the client's certificate after the client thinks it is done:
    # a refusal shows as an alert or a close on the first read.
    ctx = context(cert_dir)
    outcome = {"answered": 0, "refused": 0, "failed": 0}
    until = time.monotonic() + seconds
    while sum(outcome.values()) < most and time.monotonic() < until:
        try:
            with ctx.wrap_socket(socket.create_connection((host, port), timeout=5)) as s:
                s.sendall(b"let me in")
                outcome["answered" if s.recv(64) else "refused"] += 1
        except ssl.SSLError:
            outcome["refused"] += 1
        except OSError:
            outcome["failed"] += 1
    return outcome


def client_hello():
    # One real ClientHello from python's own TLS (no certificate: it is never asked for).
    hello = ssl.MemoryBIO()
    tls = context("-").wrap_bio(ssl.MemoryBIO(), hello)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return hello.read()


def hello_churn(host, port, seconds, most, sources, in_flight=64):
    # Handshakes begun and abandoned at once, `in_flight` connecting at a time: each must free
    # its pending slot on the FIN, not hold it until the handshake timeout.
    hello = client_hello()
    done, failed, opened = 0, 0, 0
    watch = selectors.DefaultSelector()
    until = time.monotonic() + seconds
    while time.monotonic() < until and (opened < most or watch.get_map()):
        while opened < most and len(watch.get_map()) < in_flight:
            s = socket.socket()
            s.setblocking(False)
            s.bind((sources[opened % len(sources)], 0))
            s.connect_ex((host, port))
            watch.register(s, selectors.EVENT_WRITE)
            opened += 1
        for key, _ in watch.select(0.2):
            s = key.fileobj
            watch.unregister(s)
            try:
                s.send(hello)
                done += 1
            except OSError:
                failed += 1
            s.close()
    for key in list(watch.get_map().values()):
        key.fileobj.close()
    return {"sent": done, "failed": failed}


def ask(host, port, cert_dir):
    # What the first read brings back, if anything: an HTTP answer, the echo app's echo, or nothing.
    ctx = context(cert_dir)
    try:
        with ctx.wrap_socket(socket.create_connection((host, port), timeout=5)) as s:
            s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
            got = s.recv(65536)
            return {"answered": len(got), "head": got[:40].decode(errors="replace")}
    except (OSError, ssl.SSLError) as error:
        return {"answered": 0, "error": type(error).__name__}


def download(host, port, cert_dir):
    # Read slowly (about 6 MiB/s), so a drain deadline falls in the middle, and say how the
    # stream ended: "close_notify" and "fin" (a FIN without close_notify) look like clean ends to
    # many clients; "reset" (TCP RST) and "tls-error" (a record that fails) cannot be mistaken.
    ctx = context(cert_dir)
    got = 0
    try:
        raw = socket.create_connection((host, port), timeout=10)
        with ctx.wrap_socket(raw, suppress_ragged_eofs=False) as s:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return {"bytes": got, "end": "close_notify"}
                got += len(chunk)
                time.sleep(0.01)
    except ssl.SSLEOFError:
        return {"bytes": got, "end": "fin"}
    except ConnectionResetError:
        return {"bytes": got, "end": "reset"}
    except ssl.SSLError as error:
        return {"bytes": got, "end": "tls-error", "reason": error.reason}
    except OSError as error:
        return {"bytes": got, "end": "error", "reason": str(error)}


def truncate(host, port, cert_dir, count):
    # A stream cut short under TLS, as a man in the middle can: a FIN and no close_notify.
    # (SSLSocket.shutdown drops the TLS state and shuts the TCP socket down as it is.)
    ctx = context(cert_dir)
    s = ctx.wrap_socket(socket.create_connection((host, port), timeout=10))
    s.sendall(b"x" * count)
    time.sleep(0.2)
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(65536):
            pass
        after = "closed"
    except ConnectionResetError:
        after = "reset"
    except OSError as error:
        after = type(error).__name__
    s.close()
    return {"sent": count, "after": after}


if __name__ == "__main__":
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rest = sys.argv[4:]
    if mode == "hold":
        result = hold(host, port, int(rest[0]), float(rest[1]))
    elif mode == "churn":
        result = churn(host, port, float(rest[0]), int(rest[1]))
    elif mode == "tls":
        result = tls(host, port, float(rest[0]), int(rest[1]), rest[2])
    elif mode == "hello-churn":
        result = hello_churn(host, port, float(rest[0]), int(rest[1]), rest[2].split(","))
    elif mode == "ask":
        result = ask(host, port, rest[0])
    elif mode == "download":
        result = download(host, port, rest[0])
    elif mode == "truncate":
        result = truncate(host, port, rest[0], int(rest[1]))
    else:
        sys.exit(f"unknown mode {mode!r}: hold, churn, tls, hello-churn, ask, download or truncate")
    print(json.dumps(result))
