package config

import (
	"path/filepath"
	"time"
)

// DefaultPath is where a box looks for its configuration.
const DefaultPath = "/etc/punchbox/punchbox.yaml"

// Config is the decoded configuration file. Field tags give the YAML keys.
type Config struct {
	Site      string     `yaml:"site"`     // required: the site's name, [a-z0-9-]
	Box       string     `yaml:"box"`      // required: this box's name within the site
	DataDir   string     `yaml:"data_dir"` // store, secrets, certificates, backups
	Timezone  string     `yaml:"timezone"` // IANA zone; the default zone of terminals
	Log       Log        `yaml:"log"`
	Web       Web        `yaml:"web"`
	MQTT      MQTT       `yaml:"mqtt"`
	Terminals []Terminal `yaml:"terminals"` // seeds the store on first start

	file string         // the file it was read from, "" when built in code
	loc  *time.Location // Timezone, loaded by Validate
}

// Log configures logging to stderr.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn or error
	Format string `yaml:"format"` // text or json
}

// Web configures the admin panel's listener.
type Web struct {
	Listen       string `yaml:"listen"`        // host:port of the HTTPS (or plain HTTP) listener
	InsecureHTTP bool   `yaml:"insecure_http"` // serve plain HTTP; only for the demo and tests
	CertFile     string `yaml:"cert_file"`     // operator-provided certificate; "" = generated
	KeyFile      string `yaml:"key_file"`      // its private key
	// Hosts are extra names the panel answers to (Host header), besides
	// the box's host name, <host>.local, localhost and any address.
	Hosts []string `yaml:"hosts"`
	// CORSOrigins may call the API from a browser page on another origin,
	// e.g. https://hr.example.com. None by default.
	CORSOrigins []string `yaml:"cors_origins"`
}

// MQTT configures the link to the central broker.
type MQTT struct {
	URL          string  `yaml:"url"` // tcp://, tls:// (mqtt://, mqtts://, ssl:// also accepted); "" = no uplink
	Username     string  `yaml:"username"`
	Password     string  `yaml:"password"`      // better from PUNCHBOX_MQTT_PASSWORD or a systemd credential
	CAFile       string  `yaml:"ca_file"`       // CA bundle to verify the broker; "" = system roots
	CertFile     string  `yaml:"cert_file"`     // client certificate for mutual TLS
	KeyFile      string  `yaml:"key_file"`      // its key
	ServerName   string  `yaml:"server_name"`   // name to verify in the broker's certificate; "" = the url's host
	ClientID     string  `yaml:"client_id"`     // "" = punchbox-<site>-<box>
	KeepAlive    string  `yaml:"keepalive"`     // MQTT keepalive, e.g. 30s
	BatchSize    int     `yaml:"batch_size"`    // punches per message
	Window       int     `yaml:"window"`        // batches in flight
	BackfillRate float64 `yaml:"backfill_rate"` // punches/s for a back-fill after an outage; 0 = unlimited
	CentralAck   bool    `yaml:"central_ack"`   // mark delivered only on central's own acknowledgement
}

// Terminal is one terminal to seed into the store on first start. The
// common keys apply to every kind; the others belong to one kind each.
type Terminal struct {
	ID       string `yaml:"id"`       // required, [a-z0-9-], unique
	Name     string `yaml:"name"`     // a human label
	Kind     string `yaml:"kind"`     // zk, zk-push or serial
	Address  string `yaml:"address"`  // zk: host or host:port (4370)
	Timezone string `yaml:"timezone"` // IANA zone; "" = the site's

	// kind zk
	Transport string `yaml:"transport"` // auto, tcp or udp
	CommKey   int64  `yaml:"commkey"`   // the terminal's comm key (0-999999)
}

// Default returns a configuration with every default applied and no identity.
func Default() Config {
	var c Config
	c.applyDefaults()
	return c
}

func (c *Config) applyDefaults() {
	setDefault(&c.DataDir, "/var/lib/punchbox")
	setDefault(&c.Timezone, "UTC")
	setDefault(&c.Log.Level, "info")
	setDefault(&c.Log.Format, "text")
	setDefault(&c.Web.Listen, ":8443")
	setDefault(&c.MQTT.KeepAlive, "30s")
	if c.MQTT.BatchSize == 0 {
		c.MQTT.BatchSize = 500
	}
	if c.MQTT.Window == 0 {
		c.MQTT.Window = 8
	}
	if c.MQTT.ClientID == "" && c.Site != "" && c.Box != "" {
		c.MQTT.ClientID = "punchbox-" + c.Site + "-" + c.Box
	}
	for i := range c.Terminals {
		t := &c.Terminals[i]
		if t.Kind == "zk" {
			setDefault(&t.Transport, "auto")
		}
	}
}

// resolvePaths makes relative file paths relative to the directory of the
// configuration file, so that a file means the same wherever it is run from.
func (c *Config) resolvePaths(dir string) {
	for _, p := range []*string{&c.DataDir, &c.Web.CertFile, &c.Web.KeyFile, &c.MQTT.CAFile, &c.MQTT.CertFile, &c.MQTT.KeyFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
}

func setDefault(p *string, v string) {
	if *p == "" {
		*p = v
	}
}

// File returns the path the configuration was read from.
func (c *Config) File() string { return c.file }

// Location returns the site's time zone. It is valid after Validate.
func (c *Config) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// KeepAliveDuration returns mqtt.keepalive; it is valid after Validate.
func (m MQTT) KeepAliveDuration() time.Duration {
	d, _ := time.ParseDuration(m.KeepAlive)
	return d
}
