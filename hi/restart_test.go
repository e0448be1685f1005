package hi

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rcds/store"
	"rcds/x1"
)

// The kill -9 test runs the MDF in a child process: this test binary,
// started again with RCDS_HI_HELPER set, runs TestHelperMDFProcess.
const helperEnv = "RCDS_HI_HELPER"

// TestHelperMDFProcess is the child MDF. In mode "gen" it sends messages
// from RCDS_HI_FROM on and prints "ACK n" each time Flush has returned
// for every message below n; in mode "drain" it only delivers. It runs
// until it is killed or gets SIGTERM.
func TestHelperMDFProcess(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process for TestKill9Restart")
	}
	dir, mode := os.Getenv("RCDS_HI_DIR"), os.Getenv("RCDS_HI_MODE")
	from, _ := strconv.Atoi(os.Getenv("RCDS_HI_FROM"))
	db, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := x1.OpenRegistry(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewMDF(baseConfig(), reg, db, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		cancel()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.Run(ctx)
	}()
	fmt.Println("READY")
	if mode == "gen" {
		g := &pduGen{t: t, xid: mustXID(t, xidA)}
		for i := from; ctx.Err() == nil && i < from+100000; i++ {
			x2, x3 := g.message(i, uint64(i/100))
			if err := m.Send(ctx, x2); err != nil {
				break
			}
			if err := m.Send(ctx, x3); err != nil {
				break
			}
			if (i+1)%10 == 0 {
				if err := m.Flush(ctx); err != nil {
					break
				}
				fmt.Printf("ACK %d\n", i+1)
			}
		}
	}
	<-done
	m.Close()
	db.Close()
}

type child struct {
	cmd   *exec.Cmd
	acks  chan int
	ready chan struct{}
}

func startChild(t *testing.T, dir, mode string, from int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMDFProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "RCDS_HI_DIR="+dir, "RCDS_HI_MODE="+mode,
		"RCDS_HI_FROM="+strconv.Itoa(from))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, acks: make(chan int, 1024), ready: make(chan struct{})}
	go func() {
		defer close(c.acks)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "READY" {
				close(c.ready)
			}
			if n, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
				if v, err := strconv.Atoi(n); err == nil {
					select {
					case c.acks <- v:
					default: // only the latest matters; the reader keeps up
					}
				}
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return c
}

// killAfter lets the child generate until it acknowledged at least n
// messages (counting from its start), then kills it with SIGKILL and
// returns the highest acknowledgement it printed.
func (c *child) killAfter(t *testing.T, n int) int {
	t.Helper()
	high := 0
	for v := range c.acks {
		high = max(high, v)
		if high >= n {
			break
		}
	}
	if high < n {
		t.Fatalf("child stopped after acknowledging %d messages", high)
	}
	time.Sleep(3 * time.Millisecond) // land somewhere in the middle of the stream
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.cmd.Wait()
	for v := range c.acks { // lines printed before it died
		high = max(high, v)
	}
	return high
}

func (c *child) terminate(t *testing.T) {
	t.Helper()
	<-c.ready // the signal handler is installed
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child did not stop cleanly: %v", err)
	}
}

// TestKill9Restart: the MDF is killed with SIGKILL in the middle of a
// stream, twice, and restarted: every message it acknowledged (Flush
// returned) reaches the LEMF; streams stay in order without gaps; no
// sequence number is ever used for two different records.
func TestKill9Restart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	rawDir := t.TempDir()
	col := newCollector()
	lemf := startLEMF(t, LEMFConfig{RawDir: rawDir, OnRecord: col.add})

	dir := t.TempDir()
	e := &env{t: t, dir: dir, cfg: baseConfig()}
	db, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e.reg, err = x1.OpenRegistry(db, nil); err != nil {
		t.Fatal(err)
	}
	e.createDest(didHI2, x1.X2Only, lemf.l.HI2Addr())
	e.createDest(didHI3, x1.X3Only, lemf.l.HI3Addr())
	e.activate(xidA, x1.MediationDetails{LIID: "KILL9", DeliveryType: x1.HI2andHI3, DIDs: []string{didHI2, didHI3}})
	db.Close()

	acked := startChild(t, dir, "gen", 0).killAfter(t, 400)
	t.Logf("first child killed after acknowledging %d messages", acked)
	drain := startChild(t, dir, "drain", 0)
	waitFor(t, "acknowledged messages", func() bool { return messagesComplete(col.data(), acked) })
	drain.terminate(t)

	// A new POI (numbering from 0 again) sends more; kill again.
	const from = 100000
	acked2 := startChild(t, dir, "gen", from).killAfter(t, from+200)
	t.Logf("second child killed at acknowledgement %d", acked2)
	drain = startChild(t, dir, "drain", 0)
	waitFor(t, "acknowledged messages of the second run", func() bool {
		seen := map[uint32]int{}
		for _, r := range col.data() {
			if r.EventID != nil && *r.EventID > from && !r.Duplicate {
				seen[*r.EventID]++
			}
		}
		for i := from + 1; i <= acked2; i++ {
			if seen[uint32(i)] < 2 {
				return false
			}
		}
		return true
	})
	drain.terminate(t)

	recs := col.data()
	if !messagesComplete(recs, acked) {
		t.Fatal("messages of the first run missing")
	}
	streams := checkStreams(t, recs, true)
	ls := lemf.l.Stats()
	if ls.Conflicts != 0 || ls.DecodeErrors != 0 {
		t.Fatalf("LEMF stats %+v", ls)
	}
	t.Logf("%d distinct records in %d streams, %d duplicates (re-sends)", len(recs)-int(ls.Duplicates), len(streams), ls.Duplicates)
	lemf.stop()
	decodeRawPrefix(t, rawDir)
}
