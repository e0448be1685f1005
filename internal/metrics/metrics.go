package metrics

import (
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"rcds/capture"
	"rcds/decoder"
	"rcds/decoder/msnp"
	"rcds/hi"
	"rcds/store"
	"rcds/x1"
	"rcds/x2x3"
)

// Namespace prefixes every metric name.
const Namespace = "rcds"

// Sources are the snapshots a Collector reads. Every field is optional.
type Sources struct {
	// Capture is the capture engine's counters (capture.Engine.Stats).
	Capture func() capture.Stats
	// KernelDrops returns the packets the kernel dropped because the
	// capture ring was full, since the capture started (live only).
	KernelDrops func() (uint64, error)
	// Decoder is the protocol multiplexer's counters (decoder.Mux.Stats).
	Decoder func() decoder.MuxStats
	// MSNP is the MSNP decoder's counters (msnp.Protocol.Stats).
	MSNP func() msnp.Stats
	// POI is the point of interception's counters (x2x3.POI.Stats).
	POI func() x2x3.POIStats
	// MDF is the mediation function's counters (hi.MDF.Stats).
	MDF func() hi.MDFStats
	// LEMF is the reference LEMF's counters (hi.LEMF.Stats).
	LEMF func() hi.LEMFStats
	// Audit is the database whose audit log counts X1 requests.
	Audit *store.DB
}

// Collector is a prometheus.Collector over Sources.
type Collector struct {
	src Sources

	mu       sync.Mutex
	auditPos uint64
	x1       map[x1Key]uint64
	auditErr uint64
}

type x1Key struct{ op, result string }

var _ prometheus.Collector = (*Collector)(nil)

// New returns a Collector over src. X1 requests are counted from the audit
// entries written after this call.
func New(src Sources) *Collector {
	c := &Collector{src: src, x1: make(map[x1Key]uint64)}
	if src.Audit != nil {
		c.auditPos = lastAuditSeq(src.Audit)
	}
	return c
}

// Register builds a Collector over src and registers it with reg.
func Register(reg prometheus.Registerer, src Sources) (*Collector, error) {
	c := New(src)
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	return c, nil
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(Namespace+"_"+name, help, labels, nil)
}

// The metric descriptions.
var (
	dCapPackets    = desc("capture_packets_total", "Packets seen by the capture engine.")
	dCapBytes      = desc("capture_bytes_total", "Captured bytes seen by the capture engine.")
	dCapDropped    = desc("capture_dropped_packets_total", "Packets not delivered to a TCP connection, by reason.", "reason")
	dCapKernel     = desc("capture_kernel_drops_total", "Packets the kernel dropped because the capture ring was full.")
	dCapFlows      = desc("capture_flows_total", "TCP connections opened.")
	dCapFlowsOpen  = desc("capture_flows_open", "TCP connections tracked now.")
	dCapEvicted    = desc("capture_flows_evicted_total", "TCP connections closed to respect the flow bound.")
	dCapGaps       = desc("capture_gaps_total", "Holes in reassembled streams (lost or dropped bytes).")
	dCapStream     = desc("capture_stream_bytes_total", "Reassembled TCP payload bytes delivered to the decoders.")
	dDecConns      = desc("decoder_connections_total", "Connections offered to the protocol decoders.")
	dDecDetected   = desc("decoder_connections_detected_total", "Connections claimed by a protocol.", "proto")
	dDecEvents     = desc("decoder_events_total", "Events decoded, by kind.", "kind")
	dDecErrors     = desc("decoder_errors_total", "Decode errors (error events).")
	dMSNPCommands  = desc("msnp_commands_total", "MSNP commands framed.")
	dMSNPSkipped   = desc("msnp_skipped_bytes_total", "Bytes skipped while resynchronising MSNP streams.")
	dPOITasks      = desc("poi_tasks", "Tasks in force at the POI.")
	dPOIEvents     = desc("poi_events_total", "Events the POI looked at (all users).")
	dPOIMatched    = desc("poi_matched_total", "(event, task) pairs matched within the warrant window.")
	dPOISkipped    = desc("poi_skipped_total", "(event, task) pairs matched but not delivered, by reason.", "reason")
	dPOIPDUs       = desc("poi_pdus_total", "X2/X3 PDUs handed to the sink, by type.", "type")
	dPOIBytes      = desc("poi_payload_bytes_total", "Payload bytes of the PDUs handed to the sink.")
	dPOIErrors     = desc("poi_errors_total", "POI errors, by reason.", "reason")
	dMDFPDUs       = desc("mdf_pdus_total", "X2/X3 PDUs handed to the MDF.")
	dMDFDropped    = desc("mdf_pdus_dropped_total", "X2/X3 PDUs the MDF dropped, by reason.", "reason")
	dMDFRecords    = desc("mdf_records_total", "HI records queued (one per destination).")
	dMDFCommits    = desc("mdf_store_commits_total", "Database transactions of the MDF's group commit.")
	dMDFCommitFail = desc("mdf_store_commit_failures_total", "Failed database commits.")
	dHIQueued      = desc("hi_records_queued_total", "Records queued for a destination.", "did")
	dHISent        = desc("hi_records_sent_total", "Records written to a destination for the first time.", "did")
	dHIResent      = desc("hi_records_resent_total", "Records written again after a reconnect or restart.", "did")
	dHIConfirmed   = desc("hi_records_confirmed_total", "Records confirmed by the LEMF and removed from the queue.", "did")
	dHIRefused     = desc("hi_records_refused_total", "Records refused for a destination, by reason.", "did", "reason")
	dHIDepth       = desc("hi_queue_depth_records", "Records waiting in a destination's queue on disk.", "did")
	dHIDepthBytes  = desc("hi_queue_depth_bytes", "Bytes waiting in a destination's queue on disk.", "did")
	dHIConnected   = desc("hi_connected", "1 when the delivery connection to the LEMF is up.", "did", "mode")
	dHIConnects    = desc("hi_connects_total", "Delivery connections established.", "did")
	dHIDisconnects = desc("hi_disconnects_total", "Delivery connections lost.", "did")
	dHIDialFail    = desc("hi_dial_failures_total", "Failed connection attempts.", "did")
	dHILatency     = desc("hi_confirm_latency_seconds", "Time from X2/X3 receipt to the LEMF's confirmation (histogram bucket bounds).", "did", "quantile")
	dLEMFConns     = desc("lemf_connections_total", "Connections the LEMF accepted.")
	dLEMFActive    = desc("lemf_connections_active", "Connections open at the LEMF.")
	dLEMFRecords   = desc("lemf_records_total", "Records the LEMF received, by kind.", "kind")
	dLEMFBytes     = desc("lemf_bytes_total", "Bytes the LEMF received.")
	dLEMFErrors    = desc("lemf_errors_total", "Records or connections the LEMF could not accept, by reason.", "reason")
	dX1Requests    = desc("x1_requests_total", "X1 operations since start, by operation and result (from the audit log).", "op", "result")
	dX1AuditErrors = desc("x1_audit_read_errors_total", "Failed reads of the audit log.")
)

var allDescs = []*prometheus.Desc{
	dCapPackets, dCapBytes, dCapDropped, dCapKernel, dCapFlows, dCapFlowsOpen, dCapEvicted, dCapGaps, dCapStream,
	dDecConns, dDecDetected, dDecEvents, dDecErrors, dMSNPCommands, dMSNPSkipped,
	dPOITasks, dPOIEvents, dPOIMatched, dPOISkipped, dPOIPDUs, dPOIBytes, dPOIErrors,
	dMDFPDUs, dMDFDropped, dMDFRecords, dMDFCommits, dMDFCommitFail,
	dHIQueued, dHISent, dHIResent, dHIConfirmed, dHIRefused, dHIDepth, dHIDepthBytes, dHIConnected,
	dHIConnects, dHIDisconnects, dHIDialFail, dHILatency,
	dLEMFConns, dLEMFActive, dLEMFRecords, dLEMFBytes, dLEMFErrors, dX1Requests, dX1AuditErrors,
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Capture != nil {
		collectCapture(ch, c.src.Capture())
	}
	if c.src.KernelDrops != nil {
		if n, err := c.src.KernelDrops(); err == nil {
			counter(ch, dCapKernel, n)
		}
	}
	if c.src.Decoder != nil {
		collectDecoder(ch, c.src.Decoder())
	}
	if c.src.MSNP != nil {
		s := c.src.MSNP()
		counter(ch, dMSNPCommands, s.Commands)
		counter(ch, dMSNPSkipped, s.SkippedBytes)
	}
	if c.src.POI != nil {
		collectPOI(ch, c.src.POI())
	}
	if c.src.MDF != nil {
		collectMDF(ch, c.src.MDF())
	}
	if c.src.LEMF != nil {
		collectLEMF(ch, c.src.LEMF())
	}
	if c.src.Audit != nil {
		c.collectX1(ch)
	}
}

func collectCapture(ch chan<- prometheus.Metric, s capture.Stats) {
	counter(ch, dCapPackets, s.Packets)
	counter(ch, dCapBytes, s.Bytes)
	for _, r := range []struct {
		reason string
		v      uint64
	}{
		{"unknown_link", s.UnknownLink}, {"non_tcp", s.NonTCP}, {"filtered", s.Filtered},
		{"truncated", s.Truncated}, {"decode_error", s.DecodeErrors}, {"fragment", s.FragmentDrops},
		{"flow_limit", s.FlowDrops}, {"late_segment", s.LateSegments},
	} {
		counter(ch, dCapDropped, r.v, r.reason)
	}
	counter(ch, dCapFlows, s.Flows)
	gauge(ch, dCapFlowsOpen, float64(s.FlowsOpen))
	counter(ch, dCapEvicted, s.FlowsEvicted)
	counter(ch, dCapGaps, s.Gaps)
	counter(ch, dCapStream, s.StreamBytes)
}

func collectDecoder(ch chan<- prometheus.Metric, s decoder.MuxStats) {
	counter(ch, dDecConns, s.Conns)
	for _, p := range sortedKeys(s.Detected) {
		counter(ch, dDecDetected, s.Detected[p], p)
	}
	kinds := make([]string, 0, len(s.Events))
	for k := range s.Events {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		counter(ch, dDecEvents, s.Events[decoder.Kind(k)], k)
	}
	counter(ch, dDecErrors, s.Errors)
}

func collectPOI(ch chan<- prometheus.Metric, s x2x3.POIStats) {
	gauge(ch, dPOITasks, float64(s.Tasks))
	counter(ch, dPOIEvents, s.Events)
	counter(ch, dPOIMatched, s.Matched)
	counter(ch, dPOISkipped, s.OutOfWindow, "out_of_window")
	counter(ch, dPOISkipped, s.Duplicates, "duplicate")
	counter(ch, dPOIPDUs, s.X2, "x2")
	counter(ch, dPOIPDUs, s.X3, "x3")
	counter(ch, dPOIBytes, s.Bytes)
	counter(ch, dPOIErrors, s.EncodeErrors, "encode")
	counter(ch, dPOIErrors, s.SendErrors, "send")
	counter(ch, dPOIErrors, s.BadTargets, "bad_target")
}

func collectMDF(ch chan<- prometheus.Metric, s hi.MDFStats) {
	counter(ch, dMDFPDUs, s.PDUs)
	counter(ch, dMDFDropped, s.Duplicates, "duplicate")
	counter(ch, dMDFDropped, s.UnknownXID, "unknown_xid")
	counter(ch, dMDFDropped, s.BadPDU, "bad_pdu")
	counter(ch, dMDFDropped, s.NoRoute, "no_route")
	counter(ch, dMDFRecords, s.Records)
	counter(ch, dMDFCommits, s.Store.Commits)
	counter(ch, dMDFCommitFail, s.CommitFailures)
	for _, d := range s.Destinations {
		counter(ch, dHIQueued, d.Queued, d.DID)
		counter(ch, dHISent, d.Sent, d.DID)
		counter(ch, dHIResent, d.Resent, d.DID)
		counter(ch, dHIConfirmed, d.Confirmed, d.DID)
		counter(ch, dHIRefused, d.Overflow, d.DID, "queue_full")
		counter(ch, dHIRefused, d.Conversion, d.DID, "conversion")
		gauge(ch, dHIDepth, float64(d.Queue.Records), d.DID)
		gauge(ch, dHIDepthBytes, float64(d.Queue.Bytes), d.DID)
		up := 0.0
		if d.Connected {
			up = 1
		}
		gauge(ch, dHIConnected, up, d.DID, string(d.Mode))
		counter(ch, dHIConnects, d.Connects, d.DID)
		counter(ch, dHIDisconnects, d.Disconnects, d.DID)
		counter(ch, dHIDialFail, d.DialFailures, d.DID)
		if d.Latency.Count > 0 {
			gauge(ch, dHILatency, d.Latency.P50.Seconds(), d.DID, "0.5")
			gauge(ch, dHILatency, d.Latency.P90.Seconds(), d.DID, "0.9")
			gauge(ch, dHILatency, d.Latency.P99.Seconds(), d.DID, "0.99")
			gauge(ch, dHILatency, d.Latency.Max.Seconds(), d.DID, "1")
		}
	}
}

func collectLEMF(ch chan<- prometheus.Metric, s hi.LEMFStats) {
	counter(ch, dLEMFConns, s.Connections)
	gauge(ch, dLEMFActive, float64(s.Active))
	counter(ch, dLEMFRecords, s.IRI, "iri")
	counter(ch, dLEMFRecords, s.CC, "cc")
	counter(ch, dLEMFRecords, s.Keepalives, "keepalive")
	counter(ch, dLEMFRecords, s.AckRequests, "ack_request")
	counter(ch, dLEMFBytes, s.Bytes)
	counter(ch, dLEMFErrors, s.Duplicates, "duplicate")
	counter(ch, dLEMFErrors, s.Conflicts, "conflict")
	counter(ch, dLEMFErrors, s.DecodeErrors, "decode_error")
	counter(ch, dLEMFErrors, s.Malformed, "malformed")
	counter(ch, dLEMFErrors, s.Truncated, "truncated")
	counter(ch, dLEMFErrors, s.IntegrityFailed, "integrity_failed")
}

// auditBatch bounds the audit entries read per step.
const auditBatch = 4096

// collectX1 counts the audit entries written since the last scrape.
func (c *Collector) collectX1(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		entries, err := x1.ReadAudit(c.src.Audit, c.auditPos, auditBatch)
		if err != nil {
			c.auditErr++
			break
		}
		for _, e := range entries {
			c.auditPos = e.Seq
			if e.Operation == "" || e.Result == "" || e.Principal == mdfPrincipal {
				continue
			}
			c.x1[x1Key{e.Operation, e.Result}]++
		}
		if len(entries) < auditBatch {
			break
		}
	}
	keys := make([]x1Key, 0, len(c.x1))
	for k := range c.x1 {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].op != keys[j].op {
			return keys[i].op < keys[j].op
		}
		return keys[i].result < keys[j].result
	})
	for _, k := range keys {
		counter(ch, dX1Requests, c.x1[k], k.op, k.result)
	}
	counter(ch, dX1AuditErrors, c.auditErr)
}

// mdfPrincipal is the principal of the audit entries the MDF writes
// (deliveries, connections), which are not X1 requests.
const mdfPrincipal = "mdf"

// lastAuditSeq returns the sequence number of the newest audit entry.
func lastAuditSeq(db *store.DB) uint64 {
	var last uint64
	for {
		entries, err := db.AuditLog(last, auditBatch)
		if err != nil || len(entries) == 0 {
			return last
		}
		last = entries[len(entries)-1].Seq
		if len(entries) < auditBatch {
			return last
		}
	}
}

func sortedKeys(m map[string]uint64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
