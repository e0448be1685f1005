package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rcds/hi/etsi"
)

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// dialRetry connects to addr, retrying while the command starts up.
func dialRetry(t *testing.T, addr string) net.Conn {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("dial %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLEMFCommand sends the hi package's pinned record stream to `rcds
// lemf`: the JSONL equals the hi package's golden output, the raw file
// holds exactly the bytes sent, the answers come back, and the live view
// and summary are printed.
func TestLEMFCommand(t *testing.T) {
	input, err := os.ReadFile(filepath.Join("..", "..", "hi", "testdata", "lemf-input.ber"))
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := os.ReadFile(filepath.Join("..", "..", "hi", "testdata", "lemf-out.jsonl.golden"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	outFile, rawDir := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "raw")
	hi2 := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		out, logs string
		err       error
	}
	done := make(chan result, 1)
	go func() {
		out, logs, err := execRoot(ctx, "lemf", "--hi2-listen", hi2, "--out", outFile, "--raw-dir", rawDir)
		done <- result{out, logs, err}
	}()
	c := dialRetry(t, hi2)
	if _, err := c.Write(input); err != nil {
		t.Fatal(err)
	}
	// Three answers: optionResponse, keep-aliveResponse, pDUAcknowledgementResponse.
	rr := etsi.NewRecordReader(c, 1<<16)
	var answers []string
	for len(answers) < 3 {
		rec, err := rr.Next()
		if err != nil {
			t.Fatalf("reading answers: %v (got %v)", err, answers)
		}
		var p etsi.PSPDU
		if err := etsi.Unmarshal(rec, &p); err != nil {
			t.Fatal(err)
		}
		answers = append(answers, strings.TrimPrefix(fmt.Sprintf("%T", p.Payload), "*etsi."))
	}
	c.Close()
	// The answers are sent after the outputs are flushed, but the raw file
	// is complete only once the connection is closed: wait for that.
	waitUntil(t, func() bool {
		b, _ := os.ReadFile(filepath.Join(rawDir, "hi2-1.ber"))
		return len(b) == len(input)
	})
	cancel()
	r := <-done
	if r.err != nil {
		t.Fatalf("lemf: %v\n%s", r.err, r.logs)
	}
	if got := strings.Join(answers, " "); got != "OptionResponse KeepAliveResponse PDUAcknowledgementResponse" {
		t.Fatalf("answers %s", got)
	}
	gotJSON, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("--out differs from hi/testdata/lemf-out.jsonl.golden:\n%s", gotJSON)
	}
	raw, err := os.ReadFile(filepath.Join(rawDir, "hi2-1.ber"))
	if err != nil || !bytes.Equal(raw, input) {
		t.Fatalf("raw file: %d bytes, want the %d bytes sent (%v)", len(raw), len(input), err)
	}
	for _, want := range []string{"lemf: HI2 on " + hi2 + ", HI3 on (none)", "seq=1 IRI continue message:deposit target@example.com -> peer@example.net event=1", "(duplicate)",
		"lemf: stopped: 1 connections, 7 records (5 IRI, 2 CC), 1 duplicates, 0 conflicts"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.out)
		}
	}
}

func TestLEMFCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"lemf"}, "--hi2-listen or --hi3-listen"},
		{[]string{"lemf", "--hi2-listen", "127.0.0.1:0", "--options", "maybe"}, "--options"},
		{[]string{"lemf", "--hi2-listen", "127.0.0.1:0", "--tls-cert", "missing.pem", "--tls-key", "missing.pem"}, "--tls-cert"},
		{[]string{"lemf", "--hi2-listen", "256.0.0.1:1"}, "listen"},
	} {
		_, _, err := execRoot(t.Context(), tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want %q", tc.args, err, tc.want)
		}
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
