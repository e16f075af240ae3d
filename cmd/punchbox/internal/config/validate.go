package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/store"
)

// MaxCommKey is the largest comm key a ZK terminal's menu accepts.
const MaxCommKey = 999999

// Validate checks a configuration that has its defaults applied and reports
// every problem at once as an *Error. It also loads the site's time zone.
func (c *Config) Validate() error {
	if probs := c.validate(); len(probs) > 0 {
		return &Error{File: c.file, Problems: probs}
	}
	return nil
}

func (c *Config) validate() []Problem {
	var v validator
	v.name("site", c.Site, true)
	v.name("box", c.Box, true)
	if c.DataDir == "" || !strings.HasPrefix(c.DataDir, "/") {
		v.add("data_dir", "want an absolute directory, e.g. /var/lib/punchbox")
	}
	c.loc = v.zone("timezone", c.Timezone)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "text", "json")
	v.hostPort("web.listen", c.Web.Listen, true)
	if (c.Web.CertFile == "") != (c.Web.KeyFile == "") {
		v.add("web.cert_file", "cert_file and key_file go together: set both or neither")
	}
	v.readable("web.cert_file", c.Web.CertFile)
	v.readable("web.key_file", c.Web.KeyFile)
	for i, h := range c.Web.Hosts {
		if !validHostName(h) {
			v.add(fmt.Sprintf("web.hosts[%d]", i), fmt.Sprintf("%q: want a host name such as punchbox.plant.example.com", h))
		}
	}
	for i, o := range c.Web.CORSOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
			v.add(fmt.Sprintf("web.cors_origins[%d]", i), fmt.Sprintf("%q: want an origin such as https://hr.example.com (scheme, host and port only)", o))
		}
	}
	c.validateMQTT(&v)
	seen := map[string]bool{}
	for i := range c.Terminals {
		key := "terminals[" + strconv.Itoa(i) + "]"
		t := &c.Terminals[i]
		if t.ID != "" && seen[t.ID] {
			v.add(key+".id", fmt.Sprintf("%q is used by an earlier terminal", t.ID))
		}
		seen[t.ID] = true
		t.validate(&v, key)
	}
	return v.probs
}

func (c *Config) validateMQTT(v *validator) {
	m := c.MQTT
	if m.URL == "" {
		if m.Username != "" || m.Password != "" || m.CAFile != "" || m.CertFile != "" {
			v.add("mqtt.url", "credentials or TLS files are set but there is no broker url")
		}
		return
	}
	u, err := url.Parse(m.URL)
	if err != nil {
		v.add("mqtt.url", "not a url, e.g. tls://broker.example.com:8883")
		return
	}
	secure := false
	switch u.Scheme {
	case "tls", "ssl", "mqtts":
		secure = true
	case "tcp", "mqtt":
	default:
		v.add("mqtt.url", fmt.Sprintf("scheme %q: want tls:// (or tcp:// on a trusted network)", u.Scheme))
		return
	}
	if u.Hostname() == "" {
		v.add("mqtt.url", "no broker host, e.g. tls://broker.example.com:8883")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			v.add("mqtt.url", fmt.Sprintf("port %q: want 1-65535", p))
		}
	}
	if u.User != nil {
		v.add("mqtt.url", "put credentials in mqtt.username and mqtt.password (or the environment), not in the url")
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		v.add("mqtt.url", "want only scheme://host:port")
	}
	if m.CAFile != "" && !secure {
		v.add("mqtt.ca_file", "a CA file needs a tls:// url")
	}
	v.readable("mqtt.ca_file", m.CAFile)
	if (m.CertFile == "") != (m.KeyFile == "") {
		v.add("mqtt.cert_file", "cert_file and key_file go together: set both or neither")
	}
	if m.CertFile != "" && !secure {
		v.add("mqtt.cert_file", "a client certificate needs a tls:// url")
	}
	v.readable("mqtt.cert_file", m.CertFile)
	v.readable("mqtt.key_file", m.KeyFile)
	if m.ServerName != "" && !secure {
		v.add("mqtt.server_name", "a server name is checked only over tls://")
	}
	if len(m.ClientID) > 128 || strings.ContainsAny(m.ClientID, "+#/ ") {
		v.add("mqtt.client_id", "want up to 128 characters without spaces, '+', '#' or '/'")
	}
	if d, err := time.ParseDuration(m.KeepAlive); err != nil || d < 5*time.Second || d > 20*time.Minute {
		v.add("mqtt.keepalive", fmt.Sprintf("%q: want a duration from 5s to 20m", m.KeepAlive))
	}
	if m.BatchSize < 1 || m.BatchSize > 5000 {
		v.add("mqtt.batch_size", fmt.Sprintf("%d: want 1-5000", m.BatchSize))
	}
	if m.Window < 1 || m.Window > 100 {
		v.add("mqtt.window", fmt.Sprintf("%d: want 1-100", m.Window))
	}
	if _, err := store.SettingDefs.Validate("uplink.backfill_rate", m.BackfillRate); err != nil {
		d, _ := store.SettingDefs.Lookup("uplink.backfill_rate")
		v.add("mqtt.backfill_rate", d.Want()+" punches per second (0: unlimited)")
	}
}

func (t *Terminal) validate(v *validator, key string) {
	v.name(key+".id", t.ID, true)
	if len(t.Name) > 100 {
		v.add(key+".name", "longer than 100 characters")
	}
	kind := punchbox.TerminalKind(t.Kind)
	if !kind.Valid() {
		v.add(key+".kind", fmt.Sprintf("%q: want one of %s", t.Kind, kindList()))
	}
	if t.Timezone != "" {
		v.zone(key+".timezone", t.Timezone)
	}
	if kind != punchbox.KindZK {
		if t.Transport != "" {
			v.add(key+".transport", "only terminals of kind zk have a transport")
		}
		if t.CommKey != 0 {
			v.add(key+".commkey", "only terminals of kind zk have a comm key")
		}
	}
	switch kind {
	case punchbox.KindZK:
		v.hostPort(key+".address", withDefaultPort(t.Address, "4370"), false)
		v.oneOf(key+".transport", t.Transport, "auto", "tcp", "udp")
		if t.CommKey < 0 || t.CommKey > MaxCommKey {
			v.add(key+".commkey", fmt.Sprintf("%d: want 0-%d", t.CommKey, MaxCommKey))
		}
	case punchbox.KindZKPush, punchbox.KindSerial:
		v.add(key+".kind", fmt.Sprintf("kind %s cannot be seeded from the configuration yet", t.Kind))
	}
}

// withDefaultPort adds port to a bare host so that "192.168.1.201" and
// "192.168.1.201:4370" both validate.
func withDefaultPort(addr, port string) string {
	if addr == "" {
		return ""
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return net.JoinHostPort(strings.Trim(addr, "[]"), port)
	}
	return addr
}

func kindList() string {
	s := make([]string, len(punchbox.Kinds))
	for i, k := range punchbox.Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

type validator struct{ probs []Problem }

func (v *validator) add(key, msg string) { v.probs = append(v.probs, Problem{Key: key, Msg: msg}) }

func (v *validator) name(key, s string, required bool) {
	switch {
	case s == "" && required:
		v.add(key, "required")
	case s != "" && !punchbox.ValidName(s):
		v.add(key, fmt.Sprintf("%q: want 1-%d characters of a-z, 0-9 and '-', not starting or ending with '-'", s, punchbox.MaxNameLen))
	}
}

func (v *validator) zone(key, s string) *time.Location {
	if s == "Local" || s == "" {
		v.add(key, "want an IANA zone name such as Europe/Berlin or UTC")
		return nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		v.add(key, fmt.Sprintf("%q: unknown IANA zone (e.g. Europe/Berlin, Asia/Kolkata, UTC)", s))
		return nil
	}
	return loc
}

func (v *validator) oneOf(key, s string, allowed ...string) {
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.add(key, fmt.Sprintf("%q: want one of %s", s, strings.Join(allowed, ", ")))
}

// hostPort checks a host:port; with anyHost an empty host (all interfaces)
// is allowed.
func (v *validator) hostPort(key, s string, anyHost bool) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		v.add(key, fmt.Sprintf("%q: want host:port", s))
		return
	}
	if host == "" && !anyHost {
		v.add(key, fmt.Sprintf("%q: no host", s))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		v.add(key, fmt.Sprintf("%q: want a port 1-65535", s))
	}
}

func (v *validator) readable(key, path string) {
	if path == "" {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		v.add(key, fmt.Sprintf("cannot read %s: %v", path, err))
		return
	}
	f.Close()
}

// validHostName reports whether h is a DNS name: dot-separated labels of
// letters, digits and hyphens, not starting or ending with a hyphen.
func validHostName(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}
