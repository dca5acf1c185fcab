// legit-peer mode: a legitimate mesh peer that keeps opening new connections while an attack runs beside it, on
// Go's standard library (an implementation independent of the proxy's Node and of the python
// attacker). Every attempt is a new TCP and TLS connection: the point is that a well-behaved
// peer can still get in while the server sheds the attacker.
//
// usage: hbone-go legit-peer MODE SERVER CERT_DIR AUTHORITY SOURCE_IP SECONDS MAX_TRIES
//   MODE hbone: an HTTP/2 CONNECT tunnel to AUTHORITY through the HBONE server SERVER
//   MODE mtls:  an mTLS connection to SERVER (the captured app address)
// It stops after SECONDS or MAX_TRIES attempts, or when stdin closes, and prints one JSON object:
// {"ok":N,"tried":N,"errors":{"message":count}}.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

// peer is what both legitimate peers are started with.
type peer struct {
	mode, server, authority string
	config                  *tls.Config
	dialer                  *net.Dialer
	seconds, last           int
}

// parsePeer reads MODE SERVER CERT_DIR AUTHORITY SOURCE_IP SECONDS N, or exits with the usage.
func parsePeer(args []string, usage string) peer {
	if len(args) != 7 {
		fmt.Fprintln(os.Stderr, "usage: hbone-go "+usage)
		os.Exit(2)
	}
	config, err := tlsConfig(args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	seconds, _ := strconv.Atoi(args[5])
	last, _ := strconv.Atoi(args[6])
	dialer := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(args[4])}}
	return peer{mode: args[0], server: args[1], authority: args[3], config: config, dialer: dialer, seconds: seconds, last: last}
}

const message = "hello from a legitimate peer"

type tally struct {
	Ok     int            `json:"ok"`
	Tried  int            `json:"tried"`
	Errors map[string]int `json:"errors"`
}

func legitPeer(args []string) {
	p := parsePeer(args, "legit-peer MODE SERVER CERT_DIR AUTHORITY SOURCE_IP SECONDS MAX_TRIES")
	seconds, maxTries := p.seconds, p.last
	stop := make(chan struct{})
	go func() { // the test closes stdin when the attack is over
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	t := tally{Errors: map[string]int{}}
	for t.Tried < maxTries && time.Now().Before(deadline) {
		select {
		case <-stop:
			deadline = time.Now()
			continue
		default:
		}
		t.attempt(p)
	}
	printJSON(t)
}

// printJSON writes a peer's result: the one line the test reads.
func printJSON(v interface{}) {
	_ = json.NewEncoder(os.Stdout).Encode(v)
}

// attempt opens one new connection (for HBONE a tunnel on a new connection), sends the message,
// half-closes, reads the echo, and counts the outcome.
func (t *tally) attempt(p peer) {
	t.Tried++
	var echo string
	var err error
	if p.mode == "hbone" {
		echo, err = freshTunnel(p.dialer, p.config, p.server, p.authority)
	} else {
		echo, err = direct(p.dialer, p.config, p.server)
	}
	if err == nil && echo != message {
		err = fmt.Errorf("echo was %q", echo)
	}
	if err != nil {
		t.Errors[err.Error()]++
		return
	}
	t.Ok++
}

// h2Transport is an HTTP/2 client whose every connection goes to the HBONE server.
func h2Transport(dialer *net.Dialer, base *tls.Config, server string) *http.Transport {
	config := base.Clone()
	config.NextProtos = []string{"h2"}
	return &http.Transport{
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "tcp", server)
		},
		TLSClientConfig: config,
	}
}

// freshTunnel opens one CONNECT stream on a fresh HTTP/2 connection, sends the message, half-closes
// and reads the echo.
func freshTunnel(dialer *net.Dialer, base *tls.Config, server, authority string) (string, error) {
	transport := h2Transport(dialer, base, server)
	defer transport.CloseIdleConnections()
	body, send := io.Pipe()
	req, err := http.NewRequest(http.MethodConnect, "https://"+authority, body)
	if err != nil {
		return "", err
	}
	req.Host = authority
	go func() {
		_, _ = send.Write([]byte(message))
		_ = send.Close()
	}()
	resp, err := (&http.Client{Transport: transport, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	echo, err := io.ReadAll(resp.Body)
	return string(echo), err
}

// direct opens one mTLS connection, sends the message, half-closes and reads the echo.
func direct(dialer *net.Dialer, config *tls.Config, server string) (string, error) {
	raw, err := dialer.Dial("tcp", server)
	if err != nil {
		return "", err
	}
	conn := tls.Client(raw, config)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(message)); err != nil {
		return "", err
	}
	if err := conn.CloseWrite(); err != nil {
		return "", err
	}
	echo, err := io.ReadAll(conn)
	return string(echo), err
}
