package msnsim

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// TapEvent says what a TapRecord holds.
type TapEvent uint8

const (
	TapOpen  TapEvent = iota // a connection was wrapped (it exists from now)
	TapData                  // bytes in one direction
	TapGap                   // bytes not recorded (beyond the tap's byte limit)
	TapClose                 // the connection was closed or hit EOF/an error
)

// TapConn identifies one recorded connection.
type TapConn struct {
	Client netip.AddrPort // the wrapped (client) side
	Server netip.AddrPort
	Start  time.Time // when it was wrapped (right after connecting)
}

// TapRecord is one recorded event of one connection.
type TapRecord struct {
	Conn       int // index into Tap.Conns
	Event      TapEvent
	FromClient bool   // TapData, TapGap: direction
	Data       []byte // TapData
	Lost       int    // TapGap: bytes not recorded
	Time       time.Time
}

// Tap records the bytes of the client connections it wraps, in both
// directions, in the order they crossed the socket API: a write is recorded
// just before it is handed to the kernel and a read just after it returns,
// so causality holds across connections (a relayed message is read after
// its sender's write was recorded). Package decodecheck replays a recording
// into a capture.Handler, which tests a decoder on simulator traffic
// without root.
type Tap struct {
	mu       sync.Mutex
	maxBytes int64
	total    int64
	conns    []TapConn
	recs     []TapRecord
}

// NewTap returns a tap that keeps at most maxBytes of data (64 MiB when
// maxBytes <= 0); bytes beyond the limit are recorded as gaps.
func NewTap(maxBytes int64) *Tap {
	if maxBytes <= 0 {
		maxBytes = 64 << 20
	}
	return &Tap{maxBytes: maxBytes}
}

// Wrap records c, a client-side connection: what is written travels
// client-to-server, what is read server-to-client. Use it as
// ClientConfig.WrapConn.
func (t *Tap) Wrap(c net.Conn) net.Conn {
	id := TapConn{Client: addrPort(c.LocalAddr()), Server: addrPort(c.RemoteAddr())}
	t.mu.Lock()
	id.Start = time.Now()
	idx := len(t.conns)
	t.conns = append(t.conns, id)
	t.recs = append(t.recs, TapRecord{Conn: idx, Event: TapOpen, Time: id.Start})
	t.mu.Unlock()
	return &tapConn{Conn: c, tap: t, idx: idx}
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}

func (t *Tap) record(idx int, ev TapEvent, fromClient bool, b []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := TapRecord{Conn: idx, Event: ev, FromClient: fromClient, Time: time.Now()}
	if ev == TapData {
		if t.total+int64(len(b)) > t.maxBytes {
			r.Event, r.Lost = TapGap, len(b)
		} else {
			r.Data = slices.Clone(b)
			t.total += int64(len(b))
		}
	}
	t.recs = append(t.recs, r)
}

// Conns returns the recorded connections; TapRecord.Conn indexes it.
func (t *Tap) Conns() []TapConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.conns)
}

// Records returns a copy of everything recorded so far, in order.
func (t *Tap) Records() []TapRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.recs)
}

// Stream returns the bytes recorded for one connection in one direction.
func (t *Tap) Stream(conn int, fromClient bool) []byte {
	var out []byte
	for _, r := range t.Records() {
		if r.Conn == conn && r.Event == TapData && r.FromClient == fromClient {
			out = append(out, r.Data...)
		}
	}
	return out
}

type tapConn struct {
	net.Conn
	tap  *Tap
	idx  int
	once sync.Once
}

func (c *tapConn) Write(b []byte) (int, error) {
	c.tap.record(c.idx, TapData, true, b)
	return c.Conn.Write(b)
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.tap.record(c.idx, TapData, false, b[:n])
	}
	if err != nil {
		c.closed()
	}
	return n, err
}

func (c *tapConn) Close() error {
	c.closed()
	return c.Conn.Close()
}

func (c *tapConn) closed() {
	c.once.Do(func() { c.tap.record(c.idx, TapClose, false, nil) })
}
