package loadgen

import (
	"fmt"
	"net/netip"
	"strings"
)

// maxSourceIPs bounds a range so a typo cannot allocate millions of entries.
const maxSourceIPs = 1 << 16

// ParseSourceIPs reads a comma-separated list of addresses and inclusive
// ranges, e.g. "127.0.0.2-127.0.0.40,127.0.1.1".
func ParseSourceIPs(s string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := netip.ParseAddr(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("loadgen: source ip %q: not an address", lo)
		}
		last := first
		if isRange {
			if last, err = netip.ParseAddr(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("loadgen: source ip %q: not an address", hi)
			}
			if first.Is4() != last.Is4() || last.Less(first) {
				return nil, fmt.Errorf("loadgen: source ip range %q: want low-high of one family, low first", part)
			}
		}
		for a := first; ; a = a.Next() {
			if len(out) == maxSourceIPs {
				return nil, fmt.Errorf("loadgen: source ips %q: more than %d addresses", s, maxSourceIPs)
			}
			out = append(out, a)
			if a == last {
				break
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("loadgen: source ips %q: no address given", s)
	}
	return out, nil
}
