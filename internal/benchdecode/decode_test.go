package benchdecode

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"rcds/decoder"
	"rcds/internal/msngen"
	"rcds/internal/testtools"
)

// genCapture writes a capture made with opt to a temporary file and returns
// its path and the expected events as rcds decode JSON lines.
func genCapture(t *testing.T, opt msngen.Options) (string, []string, msngen.Result) {
	t.Helper()
	var buf bytes.Buffer
	var want []string
	res, err := msngen.Generate(&buf, opt, func(e *decoder.Event) {
		want = append(want, string(decoder.AppendJSON(nil, e)))
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gen.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, want, res
}

func TestDecode(t *testing.T) {
	path, want, gres := genCapture(t, msngen.Options{Seed: 7, Sessions: 40, Concurrency: 8, Noise: 0.3, Seg: msngen.Segmentation{Flags: msngen.AllSeg}})
	var msgs uint64
	for _, l := range want {
		if strings.HasPrefix(l, `{"kind":"message"`) {
			msgs++
		}
	}
	if msgs == 0 {
		t.Fatal("the generated capture holds no messages")
	}

	t.Run("json", func(t *testing.T) {
		var out bytes.Buffer
		res, err := Decode(context.Background(), path, &out, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(got) != len(want) {
			t.Fatalf("%d JSON lines, want the generator's %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("line %d:\n got %s\nwant %s", i+1, got[i], want[i])
			}
		}
		if res.Events != uint64(len(want)) || res.Messages != msgs || res.Output != int64(out.Len()) || res.Packets != uint64(gres.Packets) {
			t.Errorf("result %+v; want %d events, %d messages, %d bytes, %d packets", res, len(want), msgs, out.Len(), gres.Packets)
		}
	})
	t.Run("discard", func(t *testing.T) {
		res, err := Decode(context.Background(), path, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != uint64(len(want)) || res.Messages != msgs || res.Output != 0 {
			t.Errorf("result %+v; want %d events, %d messages, no output", res, len(want), msgs)
		}
	})
	t.Run("missing-file", func(t *testing.T) {
		if _, err := Decode(context.Background(), filepath.Join(t.TempDir(), "nope.pcap"), nil, nil); err == nil {
			t.Fatal("no error for a missing file")
		}
	})
	t.Run("not-a-capture", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "junk.pcap")
		if err := os.WriteFile(p, []byte("this is not a capture file at all"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(context.Background(), p, nil, nil); err == nil {
			t.Fatal("no error for a file that is not a capture")
		}
	})
}

func TestCachedCapture(t *testing.T) {
	dir := t.TempDir()
	opt := msngen.Options{Seed: 3, Sessions: 5}
	p1, err := CachedCapture(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	var direct bytes.Buffer
	if _, err := msngen.Generate(&direct, opt, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, direct.Bytes()) {
		t.Fatalf("cached capture (%d bytes) differs from msngen's output (%d bytes)", len(got), direct.Len())
	}
	// A second call reuses the file: mark it and see the mark survive.
	if err := os.WriteFile(p1, []byte("marker"), 0o644); err != nil {
		t.Fatal(err)
	}
	p2, err := CachedCapture(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p2); p2 != p1 || string(b) != "marker" {
		t.Fatalf("second call: %s (%q), want the cached %s", p2, b, p1)
	}
	opt.Seed = 4
	if p3, err := CachedCapture(dir, opt); err != nil || p3 == p1 {
		t.Fatalf("other seed: %s, %v; want a different file", p3, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in the cache directory, want 2 (no temporary left)", len(entries))
	}
	if _, err := CachedCapture(dir, msngen.Options{Script: &msngen.Script{}}); err == nil {
		t.Error("scripted options were cached")
	}
}

// TestCrossCheckWithMsgsnarf runs dsniff's msgsnarf on a generated capture
// of the MSNP versions it survives (8, 9, 11; it crashes on MSNP12+
// switchboards) and checks that every chat line it prints is among our
// message events, and that it prints no more than we find.
func TestCrossCheckWithMsgsnarf(t *testing.T) {
	snarfBin, err := exec.LookPath("msgsnarf")
	if err != nil {
		if testtools.Required() {
			t.Fatal("msgsnarf (Debian package dsniff) is not installed and RCDS_REQUIRE_TOOLS=1")
		}
		t.Skip("msgsnarf (Debian package dsniff) is not installed")
	}
	path, _, _ := genCapture(t, msngen.Options{Seed: 11, Sessions: 60, Concurrency: 10, Noise: 0.3, Versions: []int{8, 9, 11}})
	var events bytes.Buffer
	res, err := Decode(context.Background(), path, &events, nil)
	if err != nil {
		t.Fatal(err)
	}
	var snarf, stderr bytes.Buffer
	cmd := exec.Command(snarfBin, "-p", path)
	cmd.Stdout, cmd.Stderr = &snarf, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("msgsnarf: %v (%s)", err, stderr.String())
	}
	rep, err := CrossCheck(&events, &snarf)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.SnarfMSN == 0 {
		t.Fatalf("msgsnarf printed %d MSN lines, %d not among our events", rep.SnarfMSN, rep.MissingCount)
	}
	if rep.Matched != rep.SnarfMSN || uint64(rep.Messages()) != res.Messages {
		t.Errorf("matched %d of %d lines; report counts %d messages, Decode %d", rep.Matched, rep.SnarfMSN, rep.Messages(), res.Messages)
	}
	if rep.Events["typing"] == 0 {
		t.Errorf("no typing events: the capture should hold some, which msgsnarf does not report (kinds %v)", rep.Events)
	}
	t.Logf("msgsnarf: %d MSN lines, all found; we report %d messages and %d events of %d kinds",
		rep.SnarfMSN, rep.Messages(), res.Events, len(rep.Events))
}
