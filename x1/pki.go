package x1

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// DemoPKI is a small certificate authority with one server and one client
// certificate, for tests and demo deployments of X1 with mutual TLS. It is
// not for production: the CA key sits next to the certificates.
type DemoPKI struct {
	CACert, CAKey         []byte // PEM
	ServerCert, ServerKey []byte
	ClientCert, ClientKey []byte
}

// PKIFiles are the files WriteDemoPKI writes.
type PKIFiles struct {
	CACert, CAKey         string
	ServerCert, ServerKey string
	ClientCert, ClientKey string
}

// DefaultDemoHosts returns the server certificate's names when none are given.
func DefaultDemoHosts() []string { return []string{"localhost", "127.0.0.1", "::1"} }

// NewDemoPKI creates a CA ("RCDS demo X1 CA"), a server certificate for
// hosts (DNS names or IP addresses) and a client certificate whose subject
// CN is clientCN (the principal the NE audits). Keys are ECDSA P-256;
// certificates are valid for one year.
func NewDemoPKI(hosts []string, clientCN string) (*DemoPKI, error) {
	if len(hosts) == 0 {
		hosts = DefaultDemoHosts()
	}
	if clientCN == "" {
		clientCN = "rcds-admf"
	}
	now := time.Now().Add(-time.Hour)
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("x1: demo PKI: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "RCDS demo X1 CA", Organization: []string{"RCDS demo"}},
		NotBefore:             now,
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("x1: demo PKI: CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("x1: demo PKI: CA: %w", err)
	}
	p := &DemoPKI{CACert: pemBlock("CERTIFICATE", caDER)}
	if p.CAKey, err = keyPEM(caKey); err != nil {
		return nil, err
	}
	leaf := func(cn string, usage x509.ExtKeyUsage, hosts []string) ([]byte, []byte, error) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		t := &x509.Certificate{
			SerialNumber: serial(),
			Subject:      pkix.Name{CommonName: cn, Organization: []string{"RCDS demo"}},
			NotBefore:    now,
			NotAfter:     now.AddDate(1, 0, 0),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				t.IPAddresses = append(t.IPAddresses, ip)
			} else {
				t.DNSNames = append(t.DNSNames, h)
			}
		}
		der, err := x509.CreateCertificate(rand.Reader, t, ca, &k.PublicKey, caKey)
		if err != nil {
			return nil, nil, err
		}
		kp, err := keyPEM(k)
		return pemBlock("CERTIFICATE", der), kp, err
	}
	if p.ServerCert, p.ServerKey, err = leaf("rcds-ne", x509.ExtKeyUsageServerAuth, hosts); err != nil {
		return nil, fmt.Errorf("x1: demo PKI: server: %w", err)
	}
	if p.ClientCert, p.ClientKey, err = leaf(clientCN, x509.ExtKeyUsageClientAuth, nil); err != nil {
		return nil, fmt.Errorf("x1: demo PKI: client: %w", err)
	}
	return p, nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)) // crypto/rand does not fail
	return n
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func keyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("x1: demo PKI: %w", err)
	}
	return pemBlock("PRIVATE KEY", der), nil
}

// ServerTLS returns the server side of a mutual-TLS configuration.
func (p *DemoPKI) ServerTLS() (*tls.Config, error) {
	cert, err := tls.X509KeyPair(p.ServerCert, p.ServerKey)
	if err != nil {
		return nil, fmt.Errorf("x1: demo PKI: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(p.CACert) {
		return nil, errors.New("x1: demo PKI: bad CA certificate")
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}, nil
}

// ClientTLS returns a client configuration trusting the CA; withCert adds
// the client certificate.
func (p *DemoPKI) ClientTLS(withCert bool) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(p.CACert) {
		return nil, errors.New("x1: demo PKI: bad CA certificate")
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
	if withCert {
		cert, err := tls.X509KeyPair(p.ClientCert, p.ClientKey)
		if err != nil {
			return nil, fmt.Errorf("x1: demo PKI: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Write writes the PEM files into dir (created if needed); keys are 0600.
func (p *DemoPKI) Write(dir string) (PKIFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return PKIFiles{}, fmt.Errorf("x1: write PKI: %w", err)
	}
	f := PKIFiles{
		CACert: filepath.Join(dir, "ca.pem"), CAKey: filepath.Join(dir, "ca-key.pem"),
		ServerCert: filepath.Join(dir, "server.pem"), ServerKey: filepath.Join(dir, "server-key.pem"),
		ClientCert: filepath.Join(dir, "client.pem"), ClientKey: filepath.Join(dir, "client-key.pem"),
	}
	for _, w := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.CACert, p.CACert, 0o644}, {f.CAKey, p.CAKey, 0o600},
		{f.ServerCert, p.ServerCert, 0o644}, {f.ServerKey, p.ServerKey, 0o600},
		{f.ClientCert, p.ClientCert, 0o644}, {f.ClientKey, p.ClientKey, 0o600},
	} {
		if err := os.WriteFile(w.path, w.data, w.mode); err != nil {
			return PKIFiles{}, fmt.Errorf("x1: write PKI: %w", err)
		}
	}
	return f, nil
}

// WriteDemoPKI creates a demo CA with a server certificate for hosts and a
// client certificate (CN rcds-admf) and writes them into dir as ca.pem,
// ca-key.pem, server.pem, server-key.pem, client.pem and client-key.pem.
func WriteDemoPKI(dir string, hosts []string) (PKIFiles, error) {
	p, err := NewDemoPKI(hosts, "rcds-admf")
	if err != nil {
		return PKIFiles{}, err
	}
	return p.Write(dir)
}
