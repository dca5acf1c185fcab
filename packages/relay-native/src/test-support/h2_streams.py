"""Many HBONE CONNECT streams on one python3-h2 connection, for the engine's table tests.

usage: h2_streams.py HOST PORT CERT_DIR COUNT AUTHORITY...
Opens COUNT streams (the authorities taken in turn, at most 50 open at once); a stream answered
200 sends "ping" and ends its side, then waits for the echo and the end. Prints one JSON object:
{"statuses": [status per stream, in order], "echoed": streams whose "ping" came back}.
"""
import json
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events

IN_FLIGHT = 50


def connect(host, port, cert_dir):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.check_hostname = False  # peers are named by SPIFFE ID, not DNS
    ctx.load_verify_locations(f"{cert_dir}/root-cert.pem")
    ctx.load_cert_chain(f"{cert_dir}/cert-chain.pem", f"{cert_dir}/key.pem")
    ctx.set_alpn_protocols(["h2"])
    sock = ctx.wrap_socket(socket.create_connection((host, port), timeout=20))
    config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8", validate_outbound_headers=False)
    conn = h2.connection.H2Connection(config)
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    return sock, conn


def main():
    host, port, cert_dir, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    authorities = sys.argv[5:]
    sock, conn = connect(host, port, cert_dir)
    order, status, echo, done = [], {}, {}, set()
    opened = 0
    while len(done) < count:
        while opened < count and opened - len(done) < IN_FLIGHT:
            stream = conn.get_next_available_stream_id()
            conn.send_headers(stream, [(":method", "CONNECT"), (":authority", authorities[opened % len(authorities)])])
            order.append(stream)
            opened += 1
        sock.sendall(conn.data_to_send())
        data = sock.recv(65536)
        if not data:
            break
        for event in conn.receive_data(data):
            sid = getattr(event, "stream_id", None)
            if isinstance(event, h2.events.ResponseReceived):
                status[sid] = int(dict(event.headers)[":status"])
                if status[sid] == 200:
                    conn.send_data(sid, b"ping", end_stream=True)
            elif isinstance(event, h2.events.DataReceived):
                echo[sid] = echo.get(sid, b"") + event.data
                conn.acknowledge_received_data(event.flow_controlled_length, sid)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                done.add(sid)
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
    print(json.dumps({"statuses": [status.get(s) for s in order], "echoed": sum(1 for v in echo.values() if v == b"ping")}))


main()
