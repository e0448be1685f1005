// Package metrics exposes the counters of RCDS's components to Prometheus.
//
// Each component already keeps its own counters and returns a snapshot from
// a Stats method (capture.Engine, decoder.Mux, msnp.Protocol, the POI, the
// MDF, the LEMF). A Collector reads those snapshots at scrape time and
// turns them into metrics: there is no second set of counters to keep in
// step, no package-level state and no global registry — the caller creates
// a private prometheus.Registry, registers a Collector built from the
// Sources it has (nil sources are skipped), and serves it with Handler
// (/metrics and /healthz) on a listener of its own.
//
// X1 requests are counted from the audit log, where the registry records
// every X1 operation with its result: the collector reads the entries
// written since it was created, incrementally, at each scrape.
//
// Only aggregate counters are exported, labelled at most by event kind,
// protocol, destination (DID) or X1 operation: never by user, address or
// anything else that would tell about a person who is not a target.
package metrics
