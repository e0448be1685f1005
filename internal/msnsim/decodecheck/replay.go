package decodecheck

import (
	"time"

	"rcds/capture"
	"rcds/internal/msnsim"
)

// Replay feeds tap's recording to h in order, from the calling goroutine:
// Open when a connection was wrapped, Data and Gap as recorded (with the
// recorded times), Close(CloseFIN) when the client side closed or saw the
// server close, and Close(CloseEOF) at the end for connections still open.
func Replay(tap *msnsim.Tap, h capture.Handler) {
	conns := tap.Conns()
	open := make(map[int]capture.Conn)
	var last time.Time
	for _, r := range tap.Records() {
		last = r.Time
		dir := capture.ServerToClient
		if r.FromClient {
			dir = capture.ClientToServer
		}
		switch r.Event {
		case msnsim.TapOpen:
			c := conns[r.Conn]
			open[r.Conn] = h.Open(capture.ConnID{Client: c.Client, Server: c.Server, Start: c.Start})
		case msnsim.TapData:
			if c := open[r.Conn]; c != nil && len(r.Data) > 0 {
				c.Data(dir, r.Data, r.Time)
			}
		case msnsim.TapGap:
			if c := open[r.Conn]; c != nil {
				c.Gap(dir, r.Lost, r.Time)
			}
		case msnsim.TapClose:
			if c := open[r.Conn]; c != nil {
				c.Close(capture.CloseFIN, r.Time)
				delete(open, r.Conn)
			}
		}
	}
	for i := range conns {
		if c := open[i]; c != nil {
			c.Close(capture.CloseEOF, last)
		}
	}
}
