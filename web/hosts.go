package web

import (
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// hostList decides which Host headers the panel answers. An address
// (IPv4 or IPv6) is always accepted: DNS rebinding needs a name under the
// attacker's control, and an address is nobody's name. Names must be the
// box's host name, that name with .local (mDNS), localhost, or one of
// web.hosts.
type hostList struct {
	extra map[string]bool

	mu      sync.Mutex
	own     map[string]bool
	ownRead time.Time
}

// hostRefresh is how often the box's own host name is read again.
const hostRefresh = time.Minute

func newHostList(extra []string) *hostList {
	l := &hostList{extra: map[string]bool{}}
	for _, h := range extra {
		l.extra[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	return l
}

// allowed reports whether a request's Host header (with or without a
// port) names this box.
func (l *hostList) allowed(hostport string) bool {
	h := strings.ToLower(strings.TrimSuffix(hostOnly(hostport), "."))
	if h == "" {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	if h == "localhost" || l.extra[h] {
		return true
	}
	return l.ownNames()[h]
}

func (l *hostList) ownNames() map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.own != nil && time.Since(l.ownRead) < hostRefresh {
		return l.own
	}
	own := map[string]bool{}
	if h, err := os.Hostname(); err == nil && h != "" {
		h = strings.ToLower(h)
		own[h] = true
		if short, _, ok := strings.Cut(h, "."); ok {
			own[short] = true
			own[short+".local"] = true
		} else {
			own[h+".local"] = true
		}
	}
	l.own, l.ownRead = own, time.Now()
	return own
}

// hostOnly returns the host of a Host header, without its port or the
// brackets of an IPv6 address.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}
