package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"

	"rcds/store"
	"rcds/x1"
)

// defaultX1Listen is where the embedded X1 endpoint listens unless told
// otherwise: loopback only, so that nothing is exposed by accident; a
// deployment names its provisioning interface explicitly.
const defaultX1Listen = "127.0.0.1:8443"

// x1Options are the flags of the X1 endpoint that `rcds serve`, `rcds poi`
// and `rcds mdf` embed, and of the data directory they share.
type x1Options struct {
	listen           string
	dataDir          string
	insecure         bool
	cert, key        string
	clientCA         string
	requests         []string
	neID             string
	keepaliveTimeout time.Duration
}

// AddFlags registers the X1 endpoint flags on fs.
func (o *x1Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.listen, "x1-listen", defaultX1Listen, `X1 endpoint address (HTTPS POST at `+x1.Path+`); "" disables the endpoint`)
	fs.StringVar(&o.dataDir, "data", "./rcds-data", "data directory (the bbolt file: tasks, destinations, audit log, queues)")
	fs.BoolVar(&o.insecure, "x1-insecure", false, "serve X1 over plain HTTP without client authentication (tests and demos only)")
	fs.StringVar(&o.cert, "x1-cert", "", "X1 server certificate (PEM)")
	fs.StringVar(&o.key, "x1-key", "", "X1 server private key (PEM)")
	fs.StringVar(&o.clientCA, "x1-client-ca", "", "CA certificates (PEM) that X1 client certificates must chain to")
	fs.StringArrayVar(&o.requests, "x1-request", nil, "apply this X1 request document at start-up, as if it had been POSTed (repeatable)")
	fs.StringVar(&o.neID, "ne-id", "rcds", "this NE's neIdentifier")
	fs.DurationVar(&o.keepaliveTimeout, "x1-keepalive-timeout", 0, "audit and log when the ADMF's Keepalives stop for this long (0: do not watch)")
}

// openStore opens the data directory's bbolt file.
func (o *x1Options) openStore() (*store.DB, error) {
	return store.Open(o.dataDir)
}

// startX1 opens the task registry in db, applies the --x1-request files in
// order (exactly as if they had been POSTed, with principal
// "file:<path>"), and binds the X1 endpoint. The caller runs
// srv.Serve(ctx); srv is nil when --x1-listen is "". A request file that
// cannot be read or parsed, or a request in it that is refused, stops the
// start-up, except "XID/DID already exists" (2010/2030), which a restart
// on the same data directory produces and which is logged as a warning.
func startX1(ctx context.Context, o *x1Options, db *store.DB, logger *slog.Logger) (*x1.Registry, *x1.Server, error) {
	reg, err := x1.OpenRegistry(db, logger, x1.WithNEIdentifier(o.neID))
	if err != nil {
		return nil, nil, err
	}
	for _, path := range o.requests {
		if err := applyRequestFile(ctx, reg, path, logger); err != nil {
			return nil, nil, err
		}
	}
	if o.listen == "" {
		logger.Info("X1 endpoint disabled (--x1-listen \"\")")
		return reg, nil, nil
	}
	cfg := x1.ServerConfig{
		Addr:             o.listen,
		Insecure:         o.insecure,
		CertFile:         o.cert,
		KeyFile:          o.key,
		ClientCAFile:     o.clientCA,
		NEIdentifier:     o.neID,
		KeepaliveTimeout: o.keepaliveTimeout,
	}
	if !o.insecure && (o.cert == "" || o.key == "" || o.clientCA == "") {
		return nil, nil, errors.New("X1 needs --x1-cert, --x1-key and --x1-client-ca (mutual TLS), or --x1-insecure, or --x1-listen \"\" to run without an endpoint (`rcds certs` writes a demo set)")
	}
	srv, err := x1.NewServer(cfg, reg, logger)
	if err != nil {
		return nil, nil, err
	}
	if err := srv.Listen(); err != nil {
		return nil, nil, err
	}
	return reg, srv, nil
}

// applyRequestFile posts one X1 document to the registry.
func applyRequestFile(ctx context.Context, reg *x1.Registry, path string, logger *slog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("--x1-request: %w", err)
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, x1.MaxDocumentSize+1))
	if err != nil {
		return fmt.Errorf("--x1-request %s: %w", path, err)
	}
	// Start-up provisioning is applied whole even if a stop is requested
	// meanwhile: the process then stops right after it.
	resp, _ := reg.Handle(context.WithoutCancel(ctx), "file:"+path, body)
	doc, err := x1.DecodeResponse(resp)
	if err != nil {
		return fmt.Errorf("--x1-request %s: %w", path, err)
	}
	if doc.TopLevelError != nil {
		return fmt.Errorf("--x1-request %s: the document was refused (not a valid X1Request; see the log)", path)
	}
	for i, m := range doc.Responses {
		if m.Error == nil {
			logger.Info("X1 request applied", "file", path, "message", i+1, "response", m.Type)
			continue
		}
		if m.Error.Code == x1.CodeXIDExists || m.Error.Code == x1.CodeDIDExists {
			logger.Warn("X1 request: already provisioned, kept as stored", "file", path, "message", i+1,
				"request", string(m.RequestType), "code", int(m.Error.Code), "id", m.Error.Description)
			continue
		}
		return fmt.Errorf("--x1-request %s: message %d (%s) refused: error %d: %s", path, i+1, m.RequestType, m.Error.Code, m.Error.Description)
	}
	return nil
}
