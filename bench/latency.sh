#!/bin/sh
# End-to-end latency of RCDS on loopback: from a message's packet arriving
# on the interface (the AF_PACKET capture timestamp) to its HI3 record at
# the LEMF, at a steady message rate between two simulated MSN users (the
# sender is the target), through the whole pipeline: live capture on lo,
# TCP reassembly, MSNP decoding, POI matching, X2/X3 in-process, MDF queue
# in bbolt (fsync), HI3 delivery over TCP, LEMF decoding.
#
# Needs root (AF_PACKET) and Go. Usage:
#   sudo bench/latency.sh [SECONDS [RATE]]        # default 20 s at 1000 messages/s
# Environment: RCDS_LATENCY_RUNS (default 1) repeats the measurement;
# TMPDIR chooses where the data directory (the fsynced queue) lives.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-20}
rate=${2:-1000}
runs=${RCDS_LATENCY_RUNS:-1}
if [ "$(id -u)" != 0 ]; then
	echo "bench/latency.sh: needs root for live capture (AF_PACKET); try: sudo $0 $*" >&2
	exit 2
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "RCDS end-to-end latency: ${secs}s at ${rate} messages/s on lo, $runs run(s)"
echo "host: $(uname -srm), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg), go: $(go env GOVERSION)"
i=1
while [ "$i" -le "$runs" ]; do
	RCDS_LATENCY_SECONDS=$secs RCDS_LATENCY_RATE=$rate RCDS_LATENCY_OUT="$out/run$i.json" \
		go test ./e2e -run '^TestLatency$' -count=1 -timeout 10m >"$out/log$i" 2>&1 || {
		cat "$out/log$i" >&2
		exit 1
	}
	cat "$out/run$i.json"
	i=$((i + 1))
done
