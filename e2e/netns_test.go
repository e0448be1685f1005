//go:build linux

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"rcds/internal/msnsim"
)

// TestLiveNetns: the simulator's server runs in a network namespace the
// test creates, reached over a veth pair; the clients stay in the test's
// namespace and the POI captures on the host end of the pair.
func TestLiveNetns(t *testing.T) {
	needRoot(t)
	ipTool, err := exec.LookPath("ip")
	if err != nil {
		if os.Getenv("RCDS_REQUIRE_TOOLS") == "1" {
			t.Fatal("the ip tool (iproute2) is required")
		}
		t.Skip("the ip tool (iproute2) is not installed")
	}
	n := newNetns(t, ipTool)
	srv := msnsim.NewServer(msnsim.ServerConfig{
		Host: n.nsAddr,
		Listen: func(ctx context.Context, network, address string) (net.Listener, error) {
			return listenInNetns(n.name, network, address)
		},
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("server in the namespace: %v", err)
	}
	a := srv.Addrs()
	runLive(t, n.hostIf, portsOf(a.Dispatch, a.NS, a.SB), srv, msnsim.Scenario{})
}

// netns is a namespace with a veth pair to the test's namespace.
type netns struct {
	name, hostIf, nsIf string
	hostAddr, nsAddr   string
}

// newNetns creates the namespace and the pair (a /30 in 10.231.0.0/16)
// and removes both when the test ends.
func newNetns(t *testing.T, ipTool string) *netns {
	t.Helper()
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	tag := hex.EncodeToString(b[:])
	sub := int(b[0])
	n := &netns{
		name:     fmt.Sprintf("rcds-e2e-%d-%s", os.Getpid(), tag),
		hostIf:   "rcdsh" + tag,
		nsIf:     "rcdsn" + tag,
		hostAddr: fmt.Sprintf("10.231.%d.1", sub),
		nsAddr:   fmt.Sprintf("10.231.%d.2", sub),
	}
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ipTool, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ip("netns", "add", n.name)
	t.Cleanup(func() { _ = exec.Command(ipTool, "netns", "del", n.name).Run() })
	ip("link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf)
	t.Cleanup(func() { _ = exec.Command(ipTool, "link", "del", n.hostIf).Run() })
	ip("link", "set", n.nsIf, "netns", n.name)
	ip("addr", "add", n.hostAddr+"/30", "dev", n.hostIf)
	ip("link", "set", n.hostIf, "up")
	ip("netns", "exec", n.name, "ip", "addr", "add", n.nsAddr+"/30", "dev", n.nsIf)
	ip("netns", "exec", n.name, "ip", "link", "set", n.nsIf, "up")
	ip("netns", "exec", n.name, "ip", "link", "set", "lo", "up")
	return n
}

// listenInNetns opens a listener inside the named namespace: the socket
// is created on an OS thread switched into it and keeps belonging to it.
func listenInNetns(name, network, address string) (net.Listener, error) {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer orig.Close()
	target, err := os.Open("/var/run/netns/" + name)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, fmt.Errorf("setns %s: %w", name, err)
	}
	ln, lerr := net.Listen(network, address)
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays in the other namespace: keep it locked so that
		// it dies with this goroutine instead of running others.
		if ln != nil {
			ln.Close()
		}
		return nil, fmt.Errorf("setns back: %w", err)
	}
	runtime.UnlockOSThread()
	return ln, lerr
}
