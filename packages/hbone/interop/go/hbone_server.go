// server mode: an independent HBONE server on Go's standard-library HTTP/2 (net/http), for the
// interop tests of clients. It listens on 127.0.0.1 with mTLS (a client certificate is required
// and checked against the bundle), prints {"port":N}, then one JSON line per request (its
// method, authority and forwarded header); a CONNECT is answered 200 and relayed to its
// authority both ways (the request body's end is passed on as a half-close), anything else 400.
//
// usage: hbone-go server CERT_DIR [ADDRESS:PORT]   (default 127.0.0.1, a free port)
package main

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
)

type seen struct {
	Method    string `json:"method"`
	Authority string `json:"authority"`
	Forwarded string `json:"forwarded"`
}

func serve(args []string) {
	config, err := tlsConfig(args[0])
	if err != nil {
		panic(err)
	}
	config.NextProtos = []string{"h2"}
	config.ClientAuth = tls.RequireAnyClientCert
	at := "127.0.0.1:0"
	if len(args) > 1 {
		at = args[1]
	}
	listener, err := tls.Listen("tcp", at, config)
	if err != nil {
		panic(err)
	}
	out := json.NewEncoder(os.Stdout)
	var lock sync.Mutex
	_ = out.Encode(map[string]int{"port": listener.Addr().(*net.TCPAddr).Port})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lock.Lock()
		_ = out.Encode(seen{Method: r.Method, Authority: r.Host, Forwarded: r.Header.Get("Forwarded")})
		lock.Unlock()
		if r.Method != http.MethodConnect {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		app, err := net.Dial("tcp", r.Host)
		if err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		defer app.Close()
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		go func() {
			_, _ = io.Copy(app, r.Body)
			_ = app.(*net.TCPConn).CloseWrite()
		}()
		buf := make([]byte, 32*1024)
		for {
			n, err := app.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
			if err != nil {
				return
			}
		}
	})
	_ = (&http.Server{Handler: handler}).Serve(listener)
}
