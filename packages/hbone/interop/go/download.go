// download mode: one tunnel read slowly to its end, to tell how a drain cut it. Go's HTTP/2
// keeps reading a stream after the server's GOAWAY (python-h2 cannot), so it reads the
// RST_STREAM a deadline sends, or the END_STREAM it must not.
//
// usage: hbone-go download SERVER CERT_DIR AUTHORITY
// Prints one JSON object: {"bytes":N,"end":"end_stream"|"reset: ..."|"error: ..."}.
package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

func download(args []string) {
	server, certDir, authority := args[0], args[1], args[2]
	out := map[string]interface{}{"bytes": 0}
	defer func() { printJSON(out) }()
	config, err := tlsConfig(certDir)
	if err != nil {
		out["end"] = "error: " + err.Error()
		return
	}
	transport := h2Transport(&net.Dialer{Timeout: 5 * time.Second}, config, server)
	body, send := io.Pipe()
	defer send.Close()
	req, err := http.NewRequest(http.MethodConnect, "https://"+authority, body)
	if err != nil {
		out["end"] = "error: " + err.Error()
		return
	}
	req.Host = authority
	resp, err := transport.RoundTrip(req)
	if err != nil {
		out["end"] = "error: " + err.Error()
		return
	}
	defer resp.Body.Close()
	got, buf := 0, make([]byte, 64*1024)
	for {
		n, err := resp.Body.Read(buf)
		got += n
		out["bytes"] = got
		if errors.Is(err, io.EOF) {
			out["end"] = "end_stream"
			return
		}
		if err != nil {
			kind := "error: "
			if strings.Contains(err.Error(), "stream error") {
				kind = "reset: "
			}
			out["end"] = kind + err.Error()
			return
		}
		time.Sleep(10 * time.Millisecond) // about 6 MiB/s: a drain deadline falls mid-download
	}
}
