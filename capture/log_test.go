package capture

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLogging: drops are logged with their reason and counts, rate-limited,
// and never with addresses or payload.
func TestLogging(t *testing.T) {
	C := ClientToServer
	var recs []rec
	for k := range 5 {
		c := newConv(t, "192.0.2.1"+string(rune('0'+k))+":4000", srv)
		recs = append(recs, rec{at: ms(10 * k), ip: c.seg(C, "PA", 0, "secret-start")})
		for i := 1; i <= 4; i++ {
			recs = append(recs, rec{at: ms(10*k + i), ip: c.seg(C, "PA", 12+20*i, "secret-payload-01234")})
		}
	}
	var buf bytes.Buffer
	cfg := Config{MaxFlows: 2, MaxBufferedPagesPerConn: 2, Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	_, st := mustRun(t, cfg, pcapBytes(t, lkEthernet, recs))
	out := buf.String()
	for _, bad := range []string{"192.0.2", "198.51.100", "secret", "4000", "1863"} {
		if strings.Contains(out, bad) {
			t.Errorf("log mentions %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{"level=WARN", "flow table full", "out-of-order buffer bound", "occurrences=1", "occurrences=2"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	// 3 evictions and 5 page-limit gaps: logged at counts 1, 2 (and 4).
	if n := strings.Count(out, "\n"); n != 5 {
		t.Errorf("%d log lines, want 5 (stats %+v):\n%s", n, st, out)
	}
}
