package x2x3

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Handler is what a Receiver hands PDUs to: the MDF. Both methods are called
// from the goroutine of one connection at a time per connection, but from
// several connections at once, so a Handler must be safe for concurrent use.
type Handler interface {
	// HandlePDU takes one X2 or X3 PDU, in the order of the connection. The
	// Handler owns p. An error drops the connection: the POI re-sends what
	// was not confirmed.
	HandlePDU(ctx context.Context, p *PDU) error
	// Flush returns once every PDU handed over before it is durably
	// accepted (persisted). Only then does the Receiver acknowledge the
	// keep-alive that caused the call, which confirms those PDUs to the POI.
	// An error drops the connection without acknowledging.
	Flush(ctx context.Context) error
}

// ReceiverConfig configures a Receiver. Zero values mean the defaults.
type ReceiverConfig struct {
	// TLS, when set, makes every accepted connection a TLS server
	// connection (set ClientAuth to tls.RequireAndVerifyClientCert and
	// ClientCAs for mutual TLS). Leave it nil when the listener already
	// speaks TLS or for plain TCP.
	TLS *tls.Config
	// MaxPayload bounds the payload of a PDU (default and upper bound MaxPayload).
	MaxPayload int
	// IdleTimeout drops a connection on which nothing arrives for this
	// long (a POI sends keep-alives while idle); 0 means never.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the TLS handshake (default 10s).
	HandshakeTimeout time.Duration
	// WriteTimeout bounds writing one keep-alive acknowledgement (default 10s).
	WriteTimeout time.Duration
	// MaxConns is the most connections served at once; more are closed at
	// once after accepting (0: no limit).
	MaxConns int
}

// ReceiverStats are a Receiver's counters.
type ReceiverStats struct {
	Accepted      uint64 // connections accepted
	Active        int64  // connections being served now
	Refused       uint64 // connections closed at once: MaxConns reached or TLS handshake failed
	PDUs          uint64 // X2 and X3 PDUs handed to the Handler
	Keepalives    uint64 // keep-alives acknowledged
	Malformed     uint64 // connections dropped because their byte stream was malformed
	HandlerErrors uint64 // connections dropped because HandlePDU or Flush failed
}

// Receiver is the MDF side of X2/X3: it accepts POI connections, reads their
// PDUs, hands X2 and X3 PDUs to its Handler, and answers each keep-alive
// with a keep-alive acknowledgement once Handler.Flush has returned nil.
// A connection whose stream is malformed is logged, counted and dropped;
// the others keep being served.
type Receiver struct {
	cfg ReceiverConfig
	h   Handler
	log *slog.Logger

	accepted, refused, pdus, keepalives, malformedN, handlerErrors atomic.Uint64
	active                                                         atomic.Int64
}

// NewReceiver returns a Receiver handing PDUs to h and logging to logger.
func NewReceiver(cfg ReceiverConfig, h Handler, logger *slog.Logger) *Receiver {
	if cfg.MaxPayload <= 0 || cfg.MaxPayload > MaxPayload {
		cfg.MaxPayload = MaxPayload
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	return &Receiver{cfg: cfg, h: h, log: logger}
}

// Stats returns the current counters.
func (r *Receiver) Stats() ReceiverStats {
	return ReceiverStats{
		Accepted:      r.accepted.Load(),
		Active:        r.active.Load(),
		Refused:       r.refused.Load(),
		PDUs:          r.pdus.Load(),
		Keepalives:    r.keepalives.Load(),
		Malformed:     r.malformedN.Load(),
		HandlerErrors: r.handlerErrors.Load(),
	}
}

// Serve accepts connections on ln until ctx is done, then closes ln and
// every connection, waits for their goroutines and returns nil. It returns
// an error if Accept fails for another reason.
func (r *Receiver) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	var sem chan struct{}
	if r.cfg.MaxConns > 0 {
		sem = make(chan struct{}, r.cfg.MaxConns)
	}
	delay := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				r.log.Warn("x2x3 receiver: accept failed, retrying", "err", err, "retry_in", delay)
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return nil
				}
				delay = min(2*delay, time.Second)
				continue
			}
			return fmt.Errorf("x2x3: receiver: accept: %w", err)
		}
		delay = 5 * time.Millisecond
		r.accepted.Add(1)
		if sem != nil {
			select {
			case sem <- struct{}{}:
			default:
				r.refused.Add(1)
				r.log.Warn("x2x3 receiver: too many connections, closing new one", "remote", c.RemoteAddr().String(), "max", r.cfg.MaxConns)
				c.Close()
				continue
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sem != nil {
				defer func() { <-sem }()
			}
			r.active.Add(1)
			defer r.active.Add(-1)
			r.serveConn(ctx, c)
		}()
	}
}

func (r *Receiver) serveConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	log := r.log.With("remote", c.RemoteAddr().String())
	if r.cfg.TLS != nil {
		tc := tls.Server(c, r.cfg.TLS)
		hctx, cancel := context.WithTimeout(ctx, r.cfg.HandshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			r.refused.Add(1)
			log.Warn("x2x3 receiver: TLS handshake failed", "err", err)
			return
		}
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			log = log.With("peer", certs[0].Subject.String())
		}
		c = tc
	}
	log.Info("x2x3 receiver: connection accepted")
	err := r.readLoop(ctx, c, log)
	switch {
	case err == nil || errors.Is(err, io.EOF) || ctx.Err() != nil:
		log.Info("x2x3 receiver: connection closed")
	case malformed(err):
		log.Warn("x2x3 receiver: malformed X2/X3 stream, dropping connection", "err", err)
		r.malformedN.Add(1)
	default:
		log.Warn("x2x3 receiver: dropping connection", "err", err)
	}
}

// errHandler marks errors of the Handler (already counted and logged).
type errHandler struct{ err error }

func (e errHandler) Error() string { return e.err.Error() }
func (e errHandler) Unwrap() error { return e.err }

func (r *Receiver) readLoop(ctx context.Context, c net.Conn, log *slog.Logger) error {
	rd := NewReader(bufio.NewReaderSize(c, 64<<10), r.cfg.MaxPayload)
	var out []byte
	for {
		if r.cfg.IdleTimeout > 0 {
			if err := c.SetReadDeadline(time.Now().Add(r.cfg.IdleTimeout)); err != nil {
				return err
			}
		}
		p, err := rd.Next()
		if err != nil {
			return err
		}
		switch p.Type {
		case TypeX2, TypeX3:
			if err := r.h.HandlePDU(ctx, p); err != nil {
				r.handlerErrors.Add(1)
				return errHandler{fmt.Errorf("x2x3: receiver: handle %s PDU: %w", p.Type, err)}
			}
			r.pdus.Add(1)
		case TypeKeepalive:
			if err := r.h.Flush(ctx); err != nil {
				r.handlerErrors.Add(1)
				return errHandler{fmt.Errorf("x2x3: receiver: flush before keep-alive ack: %w", err)}
			}
			out, err = NewKeepaliveAck(p).AppendBinary(out[:0])
			if err != nil {
				return err
			}
			if err := c.SetWriteDeadline(time.Now().Add(r.cfg.WriteTimeout)); err != nil {
				return err
			}
			// Counted before the write: once the ack is on the wire the
			// POI may act on it, and its Stats must already show it.
			r.keepalives.Add(1)
			if _, err := c.Write(out); err != nil {
				return fmt.Errorf("x2x3: receiver: write keep-alive ack: %w", err)
			}
		case TypeKeepaliveAck:
			log.Debug("x2x3 receiver: ignoring keep-alive ack from POI")
		}
	}
}
