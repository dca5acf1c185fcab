// An independent HBONE client for interop tests, on Go's standard-library HTTP/2 (not Node's,
// not python-h2). By default it opens one CONNECT tunnel through an HBONE server, sends a line,
// half-closes, and prints one JSON object: the status and what came back. With `legit-peer` first
// it is the legitimate peer of the attack tests (legit_peer.go); `steady-peer` is the one held
// beside long attacks, with an established tunnel's ping (steady_peer.go); with `server`, an
// HBONE server (hbone_server.go).
//
// usage: hbone-go SERVER_HOST:PORT CERT_DIR AUTHORITY
//        hbone-go legit-peer MODE SERVER CERT_DIR AUTHORITY SOURCE_IP SECONDS MAX_TRIES
//        hbone-go steady-peer MODE SERVER CERT_DIR AUTHORITY SOURCE_IP SECONDS INTERVAL_MS
//        hbone-go download SERVER CERT_DIR AUTHORITY
//        hbone-go server CERT_DIR (hbone_server.go)
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

type result struct {
	Status int    `json:"status"`
	Echo   string `json:"echo"`
	Error  string `json:"error,omitempty"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "legit-peer" {
		legitPeer(os.Args[2:])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "download" {
		download(os.Args[2:])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "steady-peer" {
		steadyPeer(os.Args[2:])
		return
	}
	if len(os.Args) > 1 && os.Args[1] == "server" {
		serve(os.Args[2:])
		return
	}
	server, certDir, authority := os.Args[1], os.Args[2], os.Args[3]
	out := json.NewEncoder(os.Stdout)
	res, err := tunnel(server, certDir, authority)
	if err != nil {
		res.Error = err.Error()
	}
	_ = out.Encode(res)
}

// tlsConfig is a client's mTLS configuration from a certificate directory (as `ca issue` writes).
func tlsConfig(certDir string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certDir+"/cert-chain.pem", certDir+"/key.pem")
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(certDir + "/root-cert.pem")
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		// Peers are named by SPIFFE ID, not DNS: check the chain against the bundle only.
		InsecureSkipVerify:    true,
		VerifyPeerCertificate: verifyChain(roots),
	}, nil
}

func tunnel(server, certDir, authority string) (result, error) {
	config, err := tlsConfig(certDir)
	if err != nil {
		return result{}, err
	}
	config.NextProtos = []string{"h2"}
	transport := &http.Transport{
		ForceAttemptHTTP2: true,
		// Every request goes to the HBONE server, whatever its :authority names.
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "tcp", server)
		},
		TLSClientConfig: config,
	}
	body, send := io.Pipe()
	req, err := http.NewRequest(http.MethodConnect, "https://"+authority, body)
	if err != nil {
		return result{}, err
	}
	req.Host = authority
	go func() {
		_, _ = send.Write([]byte("hello from go"))
		_ = send.Close() // END_STREAM: the half-close
	}()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	echo, err := io.ReadAll(resp.Body)
	return result{Status: resp.StatusCode, Echo: string(echo)}, err
}

func verifyChain(roots *x509.CertPool) func([][]byte, [][]*x509.Certificate) error {
	return func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("no server certificate")
		}
		certs := make([]*x509.Certificate, 0, len(raw))
		for _, der := range raw {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return err
			}
			certs = append(certs, c)
		}
		intermediates := x509.NewCertPool()
		for _, c := range certs[1:] {
			intermediates.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates})
		return err
	}
}
