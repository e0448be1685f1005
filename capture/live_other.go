//go:build !linux

package capture

import "fmt"

// OpenLive is only available on Linux.
func OpenLive(iface string, opt LiveOptions) (Source, error) {
	return nil, fmt.Errorf("capture: open live %q: %w", iface, ErrNotSupported)
}
