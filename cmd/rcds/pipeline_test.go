package main

import (
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gopacket/gopacket"

	"rcds/capture"
	"rcds/decoder"
	"rcds/internal/msngen"
)

func TestPipeline(t *testing.T) {
	dir := t.TempDir()
	pcap, evs := genPOICapture(t, dir, msngen.Options{Seed: 5, Sessions: 6, Noise: 0.2, Seg: msngen.Segmentation{Flags: msngen.AllSeg}})
	cases := []struct {
		name       string
		cfg        pipelineConfig
		wantEvents int
		wantErr    string
	}{
		{"file", pipelineConfig{pcap: pcap}, len(evs), ""},
		{"MSN port", pipelineConfig{pcap: pcap, filter: capture.Filter{Ports: []uint16{1863}}}, len(evs), ""},
		{"other port", pipelineConfig{pcap: pcap, filter: capture.Filter{Ports: []uint16{80}}}, 0, ""},
		{"missing file", pipelineConfig{pcap: filepath.Join(dir, "none.pcap")}, 0, "none.pcap"},
		{"no source", pipelineConfig{}, 0, "no packet source"},
		{"two sources", pipelineConfig{pcap: pcap, iface: "lo"}, 0, "at once"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var events, packets atomic.Uint64
			c.cfg.onPacket = func(n uint64, _ gopacket.CaptureInfo) {
				if packets.Add(1) != n {
					t.Errorf("packet %d numbered %d", packets.Load(), n)
				}
			}
			pl, err := newPipeline(c.cfg, decoder.EmitterFunc(func(*decoder.Event) { events.Add(1) }), nil)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want one mentioning %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer pl.Close()
			if err := pl.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := pl.Stats()
			if int(events.Load()) != c.wantEvents || st.Decoder.TotalEvents() != events.Load() {
				t.Errorf("%d events (decoder counted %d), want %d", events.Load(), st.Decoder.TotalEvents(), c.wantEvents)
			}
			if st.Capture.Packets == 0 || st.Capture.Packets != packets.Load() {
				t.Errorf("engine saw %d packets, hook %d", st.Capture.Packets, packets.Load())
			}
			if c.wantEvents > 0 && st.MSNP.Conns == 0 {
				t.Errorf("MSNP stats %+v", st.MSNP)
			}
		})
	}
}
