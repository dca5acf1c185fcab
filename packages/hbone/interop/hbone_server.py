"""An independent HBONE server for interop tests, on python3-h2 (not Node's HTTP/2).

usage: hbone_server.py CERT_DIR   -> listens on 127.0.0.1, prints {"port": N}, then one JSON line
per CONNECT it receives (its headers); answers 200 and relays to :authority, 400 for anything else.
One connection at a time, single-threaded: enough for an interop test, not a proxy.

h2 4.x validates every request as if it carried :path and :scheme; a plain CONNECT (RFC 9113
§8.5, what HBONE sends) has neither, so that one check is turned off.
"""
import json
import select
import socket
import ssl
import sys

import h2.config
import h2.connection
import h2.events

cert_dir = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.load_verify_locations(f"{cert_dir}/root-cert.pem")
ctx.load_cert_chain(f"{cert_dir}/cert-chain.pem", f"{cert_dir}/key.pem")
ctx.set_alpn_protocols(["h2"])
listener = socket.create_server(("127.0.0.1", 0))
print(json.dumps({"port": listener.getsockname()[1]}), flush=True)


def serve(tls):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8", validate_inbound_headers=False))
    conn.initiate_connection()
    tls.sendall(conn.data_to_send())
    upstreams = {}  # stream id -> socket
    while True:
        readable, _, _ = select.select([tls, *upstreams.values()], [], [], 30)
        if not readable:
            return
        for r in readable:
            if r is tls:
                data = tls.recv(65536)
                if not data:
                    return
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = dict(event.headers)
                        print(json.dumps(headers), flush=True)
                        host, _, port = headers.get(":authority", "").rpartition(":")
                        if headers.get(":method") != "CONNECT" or not port.isdigit():
                            conn.send_headers(event.stream_id, [(":status", "400")], end_stream=True)
                            continue
                        upstreams[event.stream_id] = socket.create_connection((host.strip("[]"), int(port)))
                        conn.send_headers(event.stream_id, [(":status", "200")])
                    elif isinstance(event, h2.events.DataReceived):
                        conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                        upstreams[event.stream_id].sendall(event.data)
                    elif isinstance(event, h2.events.StreamEnded):
                        upstreams[event.stream_id].shutdown(socket.SHUT_WR)  # END_STREAM -> FIN
            else:
                sid = next(s for s, u in upstreams.items() if u is r)
                data = r.recv(65536)
                if data:
                    conn.send_data(sid, data)
                else:
                    conn.end_stream(sid)  # FIN -> END_STREAM
                    del upstreams[sid]
            out = conn.data_to_send()
            if out:
                tls.sendall(out)


while True:
    raw, _ = listener.accept()
    try:
        serve(ctx.wrap_socket(raw, server_side=True))
    except (ssl.SSLError, ConnectionError, OSError):
        pass
