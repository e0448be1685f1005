package msnsim

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// mconn is one client-side MSNP connection (dispatch, NS or SB): a reader
// goroutine that routes replies to waiting requests by transaction ID and
// everything else to an asynchronous handler, and a serialised writer.
type mconn struct {
	cl   *Client
	nc   net.Conn
	role Role
	trid *atomic.Int64

	wmu sync.Mutex

	pmu     sync.Mutex
	pending map[string]chan *command

	done    chan struct{}
	errv    error // why the reader ended; set before done is closed
	onAsync func(*command)
	onClose func()
}

// asyncVerbs are never replies to a request of ours, even when they carry a
// transaction ID (ILN and IRO reuse the request's).
var asyncVerbs = map[string]bool{
	"ILN": true, "NLN": true, "FLN": true, "UBX": true, "RNG": true, "MSG": true, "OUT": true,
	"LST": true, "LSG": true, "SBS": true, "NOT": true, "CHL": true, "QNG": true, "BPR": true,
	"JOI": true, "BYE": true, "IRO": true,
}

func (cl *Client) dialConn(ctx context.Context, addr string, role Role, trid *atomic.Int64,
	onAsync func(*command), onClose func()) (*mconn, error) {
	dctx, cancel := context.WithTimeout(ctx, cl.cfg.Timeout)
	defer cancel()
	nc, err := cl.cfg.Dial(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("msnsim: dial %s %s: %w", role, addr, err)
	}
	if cl.cfg.WrapConn != nil {
		nc = cl.cfg.WrapConn(nc)
	}
	m := &mconn{cl: cl, nc: nc, role: role, trid: trid, pending: make(map[string]chan *command),
		done: make(chan struct{}), onAsync: onAsync, onClose: onClose}
	cl.mu.Lock()
	if cl.closed {
		cl.mu.Unlock()
		nc.Close()
		return nil, fmt.Errorf("msnsim: dial %s: %w", role, ErrClosed)
	}
	cl.conns[m] = struct{}{}
	cl.wg.Add(1)
	cl.mu.Unlock()
	go m.readLoop()
	return m, nil
}

func (m *mconn) readLoop() {
	defer m.cl.wg.Done()
	r := newLineReader(m.nc, m.cl.cfg.MaxLine, m.cl.cfg.MaxPayload, serverPayloadVerbs)
	var err error
	for {
		var cmd *command
		cmd, err = r.next()
		if err != nil {
			break
		}
		m.route(cmd)
	}
	m.errv = err
	m.nc.Close()
	m.cl.mu.Lock()
	delete(m.cl.conns, m)
	m.cl.mu.Unlock()
	// The client's state reflects the closure before anyone waiting on done
	// wakes up.
	if m.onClose != nil {
		m.onClose()
	}
	close(m.done)
}

func (m *mconn) route(cmd *command) {
	if !asyncVerbs[cmd.Verb] {
		m.pmu.Lock()
		ch, ok := m.pending[cmd.trid()]
		if ok {
			delete(m.pending, cmd.trid())
		}
		m.pmu.Unlock()
		if ok {
			ch <- cmd
			return
		}
	}
	if m.onAsync != nil {
		m.onAsync(cmd)
	}
}

func (m *mconn) close() { m.nc.Close() }

// write sends raw bytes (no transaction ID) and returns when they were
// handed to the kernel.
func (m *mconn) write(b []byte) (time.Time, error) {
	m.wmu.Lock()
	defer m.wmu.Unlock()
	m.nc.SetWriteDeadline(time.Now().Add(m.cl.cfg.Timeout))
	t := time.Now()
	_, err := m.nc.Write(b)
	return t, err
}

// roundTrip allocates a transaction ID, writes build(trid) and, if wait,
// waits for the reply with that ID. A numeric reply becomes a *ServerError.
// The returned time is taken just before the write.
func (m *mconn) roundTrip(ctx context.Context, verb string, wait bool, build func(trid string) []byte) (*command, time.Time, error) {
	var ch chan *command
	m.wmu.Lock()
	trid := strconv.FormatInt(m.trid.Add(1), 10)
	if wait {
		ch = make(chan *command, 1)
		m.pmu.Lock()
		m.pending[trid] = ch
		m.pmu.Unlock()
	}
	b := build(trid)
	m.nc.SetWriteDeadline(time.Now().Add(m.cl.cfg.Timeout))
	t := time.Now()
	_, err := m.nc.Write(b)
	m.wmu.Unlock()
	unregister := func() {
		m.pmu.Lock()
		delete(m.pending, trid)
		m.pmu.Unlock()
	}
	if err != nil {
		unregister()
		return nil, t, fmt.Errorf("msnsim: %s: write: %w", verb, err)
	}
	if !wait {
		return nil, t, nil
	}
	timer := time.NewTimer(m.cl.cfg.Timeout)
	defer timer.Stop()
	reply := func(r *command) (*command, time.Time, error) {
		if code, err := strconv.Atoi(r.Verb); err == nil {
			return r, t, &ServerError{Code: code, Command: verb}
		}
		return r, t, nil
	}
	select {
	case r := <-ch:
		return reply(r)
	case <-m.done:
		// The reply may have arrived just before the server hung up.
		select {
		case r := <-ch:
			return reply(r)
		default:
		}
		unregister()
		return nil, t, fmt.Errorf("msnsim: %s: connection closed (%v): %w", verb, m.errv, ErrClosed)
	case <-ctx.Done():
		unregister()
		return nil, t, fmt.Errorf("msnsim: %s: %w", verb, ctx.Err())
	case <-timer.C:
		unregister()
		return nil, t, fmt.Errorf("msnsim: %s: no reply: %w", verb, os.ErrDeadlineExceeded)
	}
}

// request sends "verb trid args..." and waits for its reply.
func (m *mconn) request(ctx context.Context, verb string, args ...string) (*command, error) {
	r, _, err := m.roundTrip(ctx, verb, true, func(trid string) []byte {
		return line(verb, append([]string{trid}, args...)...)
	})
	return r, err
}

// requestPayload sends "verb trid args... len\r\npayload" and waits.
func (m *mconn) requestPayload(ctx context.Context, verb string, payload []byte, args ...string) (*command, error) {
	r, _, err := m.roundTrip(ctx, verb, true, func(trid string) []byte {
		return withPayload(verb, payload, append([]string{trid}, args...)...)
	})
	return r, err
}

// closeGracefully sends OUT and waits (bounded) for the server to hang up.
func (m *mconn) closeGracefully(ctx context.Context) error {
	_, err := m.write(line("OUT"))
	if err == nil {
		t := time.NewTimer(m.cl.cfg.Timeout)
		defer t.Stop()
		select {
		case <-m.done:
		case <-ctx.Done():
			err = ctx.Err()
		case <-t.C:
		}
	}
	m.close()
	<-m.done
	if err != nil {
		return fmt.Errorf("msnsim: %s OUT: %w", m.role, err)
	}
	return nil
}
