package zkpull

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"
)

// DefaultPort is the ZK protocol's port.
const DefaultPort = "4370"

// Options are the settings of a terminal of kind "zk".
type Options struct {
	Transport      string   `json:"transport"`       // auto (TCP, then UDP), tcp or udp
	CommKey        uint32   `json:"commkey"`         // the terminal's comm key; 0 = none
	Timeout        Duration `json:"timeout"`         // wait for each reply packet
	PollInterval   Duration `json:"poll_interval"`   // how often the log count and clock are checked
	DisableTimeout Duration `json:"disable_timeout"` // the terminal re-enables itself after this much silence
	Live           *bool    `json:"live"`            // take punches from realtime events
	ClearLog       string   `json:"clear_log"`       // never, stored or delivered (DESIGN invariant 2)
}

// Clear-log policies.
const (
	ClearNever     = "never"     // never clear the terminal's log (default)
	ClearStored    = "stored"    // clear once every punch in it is stored on the box
	ClearDelivered = "delivered" // clear once every punch in it is also acknowledged upstream
)

func (o *Options) applyDefaults() {
	if o.Transport == "" {
		o.Transport = "auto"
	}
	if o.Timeout == 0 {
		o.Timeout = Duration(DefaultTimeout)
	}
	if o.PollInterval == 0 {
		o.PollInterval = Duration(time.Minute)
	}
	if o.DisableTimeout == 0 {
		o.DisableTimeout = Duration(2 * time.Minute)
	}
	if o.Live == nil {
		live := true
		o.Live = &live
	}
	if o.ClearLog == "" {
		o.ClearLog = ClearNever
	}
}

func (o *Options) validate() error {
	var probs []string
	switch o.Transport {
	case "auto", "tcp", "udp":
	default:
		probs = append(probs, fmt.Sprintf("transport %q: want auto, tcp or udp", o.Transport))
	}
	if o.CommKey > 999999 {
		probs = append(probs, fmt.Sprintf("commkey %d: want 0-999999", o.CommKey))
	}
	if o.Timeout.D() < 100*time.Millisecond || o.Timeout.D() > time.Minute {
		probs = append(probs, "timeout: want 100ms to 1m")
	}
	if o.PollInterval.D() < time.Second {
		probs = append(probs, "poll_interval: want at least 1s")
	}
	if o.DisableTimeout.D() < 10*time.Second || o.DisableTimeout.D() > time.Hour {
		probs = append(probs, "disable_timeout: want 10s to 1h")
	}
	switch o.ClearLog {
	case ClearNever, ClearStored, ClearDelivered:
	default:
		probs = append(probs, fmt.Sprintf("clear_log %q: want never, stored or delivered", o.ClearLog))
	}
	if len(probs) > 0 {
		return fmt.Errorf("options: %s", strings.Join(probs, "; "))
	}
	return nil
}

// Address returns addr with the default port added when it has none.
func Address(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("no address")
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr, nil
	}
	host := strings.Trim(addr, "[]")
	if host == "" || strings.ContainsAny(host, " /") {
		return "", fmt.Errorf("address %q: want host or host:port", addr)
	}
	return net.JoinHostPort(host, DefaultPort), nil
}

// Duration is a time.Duration that decodes from "30s" or a number of
// seconds.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalJSON accepts "1m30s" or 90.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var n float64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration %s: want \"30s\" or a number of seconds", b)
	}
	*d = Duration(n * float64(time.Second))
	return nil
}

// MarshalJSON writes the "1m30s" form.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }
