package capture

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// The benchmark capture: RCDS_BENCH_MB megabytes (default 64) of TCP
// traffic on 500 concurrent connections (MSNP-like command lines and MIME
// messages, 10% IPv6), every data segment acknowledged, 1% of the segments
// swapped with the next and 0.5% retransmitted, plus 5% UDP noise.
var benchFile struct {
	once    sync.Once
	dir     string
	path    string
	packets int
	size    int64
	err     error
}

func benchCapture(b *testing.B) (string, int, int64) {
	benchFile.once.Do(func() {
		mb := 64
		if v, err := strconv.Atoi(os.Getenv("RCDS_BENCH_MB")); err == nil && v > 0 {
			mb = v
		}
		dir, err := os.MkdirTemp("", "capture-bench")
		if err != nil {
			benchFile.err = err
			return
		}
		benchFile.dir = dir
		benchFile.path = filepath.Join(dir, "bench.pcap")
		benchFile.packets, benchFile.err = writeBenchCapture(b, benchFile.path, int64(mb)<<20, 1)
		if fi, err := os.Stat(benchFile.path); err == nil {
			benchFile.size = fi.Size()
		}
	})
	if benchFile.err != nil {
		b.Fatal(benchFile.err)
	}
	return benchFile.path, benchFile.packets, benchFile.size
}

// TestMain removes the benchmark capture after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchFile.dir != "" {
		os.RemoveAll(benchFile.dir)
	}
	os.Exit(code)
}

func writeBenchCapture(tb testing.TB, path string, size int64, seed int64) (int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := pcapgo.NewWriter(bw)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return 0, err
	}
	rng := rand.New(rand.NewSource(seed))
	type flow struct {
		c    *conv
		off  [2]int
		open bool
	}
	const nflows = 500
	flows := make([]*flow, nflows)
	next := 0
	newFlow := func() *flow {
		next++
		cl := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(next >> 16), byte(next >> 8), byte(next)}), uint16(1024+next%60000))
		sv := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(next % 200)}), 1863)
		if next%10 == 0 {
			cl = netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(next >> 8), 15: byte(next)}), cl.Port())
			sv = netip.AddrPortFrom(netip.MustParseAddr("2001:db8:1::7"), 1863)
		}
		return &flow{c: &conv{t: tb, cli: cl, srv: sv, isn: [2]uint32{rng.Uint32(), rng.Uint32()}}}
	}
	for i := range flows {
		flows[i] = newFlow()
	}
	ts := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	packets := 0
	var written int64
	var held []byte // a segment swapped with the next one
	emit := func(ip []byte) error {
		ts = ts.Add(time.Duration(20+rng.Intn(200)) * time.Microsecond)
		d := frame(tb, lkEthernet, ip)
		packets++
		written += int64(len(d)) + 16
		return w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(d), Length: len(d)}, d)
	}
	body := []byte("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nX-MMS-IM-Format: FN=Arial; EF=; CO=0; CS=0; PF=22\r\n\r\n")
	for written < size {
		fl := flows[rng.Intn(nflows)]
		c := fl.c
		var pkts [][]byte
		switch {
		case !fl.open:
			pkts = [][]byte{c.seg(ClientToServer, "S", -1, ""), c.seg(ServerToClient, "SA", -1, ""), c.seg(ClientToServer, "A", 0, "")}
			fl.open = true
		case rng.Intn(400) == 0:
			pkts = [][]byte{c.seg(ClientToServer, "FA", fl.off[0], ""), c.seg(ServerToClient, "FA", fl.off[1], ""), c.seg(ClientToServer, "A", fl.off[0]+1, "")}
			*fl = *newFlow()
		case rng.Intn(20) == 0:
			u := ipTCP(tb, c.cli, c.srv, 0, 0, "", make([]byte, 40+rng.Intn(200)))
			u[9] = 17 // UDP noise
			pkts = [][]byte{u}
		default:
			d := Dir(rng.Intn(2))
			n := 40 + rng.Intn(1300)
			msg := fmt.Appendf(nil, "MSG %d N %d\r\n", rng.Intn(1000), n)
			for len(msg) < n {
				msg = append(msg, body...)
			}
			msg = msg[:n]
			seg := c.seg(d, "PA", fl.off[d], string(msg))
			if rng.Intn(200) == 0 {
				pkts = append(pkts, seg) // retransmission
			}
			fl.off[d] += n
			pkts = append(pkts, seg, c.seg(1-d, "A", fl.off[1-d], ""))
			if held == nil && rng.Intn(100) == 0 {
				held, pkts = pkts[len(pkts)-2], pkts[len(pkts)-1:] // send it after the next
			} else if held != nil {
				pkts = append(pkts, held)
				held = nil
			}
		}
		for _, p := range pkts {
			if err := emit(p); err != nil {
				return 0, err
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return packets, f.Close()
}

// BenchmarkBareLoop is the baseline: read the file with pcapgo and decode
// the layers with a DecodingLayerParser.
func BenchmarkBareLoop(b *testing.B) {
	path, packets, size := benchCapture(b)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		n, err := BareLoop(path)
		if err != nil || n != packets {
			b.Fatalf("BareLoop: %d packets, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(packets), "ns/pkt")
}

// BenchmarkEngine reads the same file into the Engine with a no-op handler:
// decoding, defragmentation, TCP reassembly in both directions.
func BenchmarkEngine(b *testing.B) {
	path, packets, size := benchCapture(b)
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	var st Stats
	for b.Loop() {
		src, err := OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		e := NewEngine(Config{}, nil)
		if err := e.Run(context.Background(), src); err != nil {
			b.Fatal(err)
		}
		src.Close()
		st = e.Stats()
	}
	if st.Packets != uint64(packets) || st.DecodeErrors != 0 {
		b.Fatalf("stats %+v", st)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(packets), "ns/pkt")
}

// BenchmarkEngineVsBareLoop runs the bare loop and the Engine alternately on
// the same file, so that both see the same machine load, and reports their
// costs and the throughput ratio (Engine / bare loop; 1 means as fast).
func BenchmarkEngineVsBareLoop(b *testing.B) {
	path, packets, size := benchCapture(b)
	b.SetBytes(2 * size)
	var bare, eng time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := BareLoop(path); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		src, err := OpenFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := NewEngine(Config{}, nil).Run(context.Background(), src); err != nil {
			b.Fatal(err)
		}
		src.Close()
		bare += t1.Sub(t0)
		eng += time.Since(t1)
	}
	n := float64(b.N) * float64(packets)
	b.ReportMetric(float64(bare.Nanoseconds())/n, "bare-ns/pkt")
	b.ReportMetric(float64(eng.Nanoseconds())/n, "engine-ns/pkt")
	b.ReportMetric(float64(bare)/float64(eng), "ratio")
}
