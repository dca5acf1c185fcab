// steady-peer mode: the legitimate peer of the attacks held for many seconds. Two things at once,
// on Go's standard library: one established connection (for HBONE a tunnel) that sends a byte
// every 100 ms and times its echo, and a new connection (TCP, TLS and for HBONE a tunnel) every
// INTERVAL_MS. Run once without an attack (the control) and once beside it, the same test compares
// the two: an attacker may cost a little latency, never a legitimate connection.
//
// usage: hbone-go steady-peer MODE SERVER CERT_DIR AUTHORITY SOURCE_IP SECONDS INTERVAL_MS
// It stops after SECONDS or when stdin closes, and prints one JSON object:
// {"ok":N,"tried":N,"errors":{...},"pings":N,"pingErrors":{...},"p50Ms":X,"p99Ms":X}.
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"
)

type steadyTally struct {
	tally
	Pings      int            `json:"pings"`
	PingErrors map[string]int `json:"pingErrors"`
	P50Ms      float64        `json:"p50Ms"`
	P99Ms      float64        `json:"p99Ms"`
}

func steadyPeer(args []string) {
	p := parsePeer(args, "steady-peer MODE SERVER CERT_DIR AUTHORITY SOURCE_IP SECONDS INTERVAL_MS")
	mode, server, authority, config, dialer := p.mode, p.server, p.authority, p.config, p.dialer
	seconds, interval := p.seconds, p.last
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(seconds)*time.Second)
	defer cancel()
	go func() { // the test closes stdin when the attack is over
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	out := steadyTally{tally: tally{Errors: map[string]int{}}, PingErrors: map[string]int{}}
	var rtts []time.Duration
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rtts = pingLoop(ctx, mode, dialer, config, server, authority, out.PingErrors)
	}()
	for tick := time.NewTicker(time.Duration(interval) * time.Millisecond); ctx.Err() == nil; {
		out.attempt(p)
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	wg.Wait()
	out.Pings = len(rtts)
	out.P50Ms, out.P99Ms = quantile(rtts, 0.5), quantile(rtts, 0.99)
	printJSON(out)
}

// pingLoop opens one connection (an HBONE tunnel, or mTLS) and sends a byte every 100 ms, timing
// each echo, until ctx ends. A broken connection is counted and opened again.
func pingLoop(ctx context.Context, mode string, dialer *net.Dialer, config *tls.Config, server, authority string, errs map[string]int) []time.Duration {
	var rtts []time.Duration
	for ctx.Err() == nil {
		conn, err := establish(ctx, mode, dialer, config, server, authority)
		if err != nil {
			errs["open: "+err.Error()]++
			time.Sleep(100 * time.Millisecond)
			continue
		}
		one := make([]byte, 1)
		for tick := time.NewTicker(100 * time.Millisecond); ctx.Err() == nil; {
			started := time.Now()
			if _, err = conn.Write([]byte{'p'}); err == nil {
				_, err = io.ReadFull(conn, one)
			}
			if err != nil {
				if ctx.Err() == nil {
					errs[err.Error()]++
				}
				break
			}
			rtts = append(rtts, time.Since(started))
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
		conn.Close()
	}
	return rtts
}

// establish opens the connection the ping loop uses: an mTLS connection, or a CONNECT tunnel on a
// connection of its own.
func establish(ctx context.Context, mode string, dialer *net.Dialer, base *tls.Config, server, authority string) (io.ReadWriteCloser, error) {
	if mode != "hbone" {
		raw, err := dialer.DialContext(ctx, "tcp", server)
		if err != nil {
			return nil, err
		}
		conn := tls.Client(raw, base)
		return conn, conn.HandshakeContext(ctx)
	}
	transport := h2Transport(dialer, base, server)
	body, send := io.Pipe()
	req, err := http.NewRequestWithContext(ctx, http.MethodConnect, "https://"+authority, body)
	if err != nil {
		return nil, err
	}
	req.Host = authority
	resp, err := transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return &tunnelConn{send: send, body: resp.Body, transport: transport}, nil
}

type tunnelConn struct {
	send      *io.PipeWriter
	body      io.ReadCloser
	transport *http.Transport
}

func (t *tunnelConn) Write(p []byte) (int, error) { return t.send.Write(p) }
func (t *tunnelConn) Read(p []byte) (int, error)  { return t.body.Read(p) }
func (t *tunnelConn) Close() error {
	_ = t.send.Close()
	_ = t.body.Close()
	t.transport.CloseIdleConnections()
	return nil
}

func quantile(d []time.Duration, q float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[int(q*float64(len(s)-1))].Microseconds()) / 1000
}
