package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const minimal = "site: acme-plant-1\nbox: box-01\n"

func noEnv(string) (string, bool) { return "", false }

func parse(t *testing.T, src string) (*Config, error) {
	t.Helper()
	return Parse([]byte(src), t.TempDir(), noEnv)
}

func TestExampleFile(t *testing.T) {
	c, err := Load(filepath.Join("..", "..", "..", "..", "examples", "punchbox.yaml"))
	if err != nil {
		t.Fatalf("examples/punchbox.yaml: %v", err)
	}
	if c.Site != "acme-plant-1" || c.Box != "box-01" || c.Location().String() != "Europe/Berlin" {
		t.Errorf("identity = %s/%s in %s", c.Site, c.Box, c.Location())
	}
	if c.Web.InsecureHTTP {
		t.Error("the example must not serve plain HTTP")
	}
	if len(c.Terminals) != 2 || c.Terminals[0].ID != "gate-a" || c.Terminals[0].Transport != "auto" || c.Terminals[1].CommKey != 123456 {
		t.Errorf("terminals = %+v", c.Terminals)
	}
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, minimal)
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if c.DataDir != want.DataDir || c.DataDir != "/var/lib/punchbox" || c.Timezone != "UTC" || c.Log != want.Log ||
		c.Web.Listen != ":8443" || c.Web.InsecureHTTP || c.MQTT.URL != "" {
		t.Errorf("defaults = %+v", c)
	}
}

func TestUnknownKeys(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // each must appear in the error
	}{
		{"top level", minimal + "sight: x\n", []string{`line 3: sight: unknown key "sight"`}},
		{"nested with suggestion", minimal + "web:\n  listen: \":8443\"\n  insecureHTTP: true\n", []string{`line 5: web.insecureHTTP: unknown key "insecureHTTP" (did you mean "insecure_http"?)`}},
		{"shortened", minimal + "web: {insecure: true}\n", []string{`web.insecure: unknown key "insecure" (did you mean "insecure_http"?)`}},
		{"no suggestion for a stranger", minimal + "colour: blue\n", []string{`colour: unknown key "colour"`}},
		{"in a flow mapping", minimal + "terminals:\n  - {id: a, kind: zk, address: h, comkey: 1}\n", []string{`line 4: terminals[0].comkey: unknown key "comkey" (did you mean "commkey"?)`}},
		{"every one at once", minimal + "foo: 1\nmqtt:\n  pasword: x\n", []string{"2 problems", `line 3: foo: unknown key`, `line 5: mqtt.pasword: unknown key`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.src)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct {
		name, src string
		want      string
	}{
		{"missing site", "box: b\n", "site: required"},
		{"site with capitals", "site: Acme\nbox: b\n", `line 1: site: "Acme": want 1-63 characters`},
		{"site of the wrong type", "site: [1, 2]\nbox: b\n", "line 1: site: want a string"},
		{"relative data dir is resolved", minimal, ""},
		{"bad zone", minimal + "timezone: Mars/Olympus\n", `line 3: timezone: "Mars/Olympus": unknown IANA zone`},
		{"Local is not a zone", minimal + "timezone: Local\n", "line 3: timezone: want an IANA zone name"},
		{"log level", minimal + "log: {level: verbose}\n", `line 3: log.level: "verbose": want one of debug, info, warn, error`},
		{"listen without port", minimal + "web: {listen: localhost}\n", `line 3: web.listen: "localhost": want host:port`},
		{"listen port out of range", minimal + "web: {listen: \":99999\"}\n", "want a port 1-65535"},
		{"insecure_http not a bool", minimal + "web: {insecure_http: maybe}\n", "line 3: web.insecure_http: want true or false"},
		{"cert without key", minimal + "web: {cert_file: /etc/hostname}\n", "cert_file and key_file go together"},
		{"bad host", minimal + "web: {hosts: [\"evil.com/x\"]}\n", `web.hosts[0]: "evil.com/x": want a host name`},
		{"origin with path", minimal + "web: {cors_origins: [\"https://hr.example.com/app\"]}\n", `web.cors_origins[0]: "https://hr.example.com/app": want an origin`},
		{"origin without scheme", minimal + "web: {cors_origins: [hr.example.com]}\n", `web.cors_origins[0]`},
		{"missing cert file", minimal + "web: {cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem}\n", "cannot read /nonexistent/c.pem: no such file or directory"},
		{"mqtt scheme", minimal + "mqtt: {url: \"http://broker:80\"}\n", `line 3: mqtt.url: scheme "http"`},
		{"mqtt no host", minimal + "mqtt: {url: \"tls://:8883\"}\n", "no broker host"},
		{"mqtt credentials in url", minimal + "mqtt: {url: \"tls://u:p@broker:8883\"}\n", "not in the url"},
		{"ca file on plain tcp", minimal + "mqtt: {url: \"tcp://broker:1883\", ca_file: /etc/hostname}\n", "mqtt.ca_file: a CA file needs a tls:// url"},
		{"password without broker", minimal + "mqtt: {password: s3cret}\n", "mqtt.url: credentials or TLS files are set but there is no broker url"},
		{"client cert on plain tcp", minimal + "mqtt: {url: \"tcp://b:1883\", cert_file: /etc/hostname, key_file: /etc/hostname}\n", "mqtt.cert_file: a client certificate needs a tls:// url"},
		{"cert without key", minimal + "mqtt: {url: \"tls://b:8883\", cert_file: /etc/hostname}\n", "mqtt.cert_file: cert_file and key_file go together"},
		{"keepalive not a duration", minimal + "mqtt: {url: \"tls://b:8883\", keepalive: soon}\n", `line 3: mqtt.keepalive: "soon": want a duration`},
		{"keepalive too short", minimal + "mqtt: {url: \"tls://b:8883\", keepalive: 1s}\n", `mqtt.keepalive: "1s": want a duration from 5s to 20m`},
		{"batch size", minimal + "mqtt: {url: \"tls://b:8883\", batch_size: 0}\n", ""},
		{"batch size too big", minimal + "mqtt: {url: \"tls://b:8883\", batch_size: 100000}\n", "mqtt.batch_size: 100000: want 1-5000"},
		{"negative backfill rate", minimal + "mqtt: {url: \"tls://b:8883\", backfill_rate: -1}\n", "mqtt.backfill_rate"},
		{"backfill rate too small", minimal + "mqtt: {url: \"tls://b:8883\", backfill_rate: 1e-9}\n", "mqtt.backfill_rate"},
		{"terminal kind", minimal + "terminals:\n  - {id: a, kind: anviz, address: h}\n", `line 4: terminals[0].kind: "anviz": want one of zk, zk-push, serial`},
		{"terminal id", minimal + "terminals:\n  - {id: Gate A, kind: zk, address: h}\n", `line 4: terminals[0].id: "Gate A"`},
		{"duplicate terminal id", minimal + "terminals:\n  - {id: a, kind: zk, address: h}\n  - {id: a, kind: zk, address: h2}\n", `line 5: terminals[1].id: "a" is used by an earlier terminal`},
		{"terminal without address", minimal + "terminals:\n  - {id: a, kind: zk}\n", `terminals[0].address: "": want host:port`},
		{"bad transport", minimal + "terminals:\n  - {id: a, kind: zk, address: h, transport: sctp}\n", `line 4: terminals[0].transport: "sctp": want one of auto, tcp, udp`},
		{"comm key too big", minimal + "terminals:\n  - id: a\n    kind: zk\n    address: h\n    commkey: 1000000\n", "line 7: terminals[0].commkey: 1000000: want 0-999999"},
		{"comm key overflow", minimal + "terminals:\n  - id: a\n    kind: zk\n    address: h\n    commkey: 99999999999999999999\n", "line 7"},
		{"terminal zone", minimal + "terminals:\n  - {id: a, kind: zk, address: h, timezone: CEST}\n", `terminals[0].timezone: "CEST": unknown IANA zone`},
		{"not a mapping", "- a\n- b\n", "the file must be a mapping"},
		{"syntax error", "site: [\n", "line 1"},
		{"two documents", minimal + "---\n" + minimal, "more than one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(t, tt.src)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nlacks %q", err, tt.want)
			}
		})
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	_, err := parse(t, "site: ACME\nlog: {format: xml}\nterminals:\n  - {id: a, kind: zk, address: h, commkey: -1}\n")
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *Error", err)
	}
	keys := map[string]int{}
	for _, p := range ce.Problems {
		keys[p.Key] = p.Line
	}
	want := map[string]int{"site": 1, "box": 0, "log.format": 2, "terminals[0].commkey": 4}
	for k, line := range want {
		if got, ok := keys[k]; !ok || got != line {
			t.Errorf("problem for %s at line %d (found=%v), want line %d; all: %v", k, got, ok, line, ce.Problems)
		}
	}
	if len(ce.Problems) != len(want) {
		t.Errorf("%d problems, want %d: %v", len(ce.Problems), len(want), ce.Problems)
	}
}

func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	c, err := Parse([]byte(minimal+"data_dir: state\n"), dir, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(dir, "state") {
		t.Errorf("data_dir = %s, want it under %s", c.DataDir, dir)
	}
}

func TestSecrets(t *testing.T) {
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "mqtt_password"), []byte("from-credential\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := minimal + "mqtt: {url: \"tls://broker:8883\", username: file-user, password: from-file}\n"
	tests := []struct {
		name       string
		env        map[string]string
		user, pass string
	}{
		{"file only", nil, "file-user", "from-file"},
		{"environment wins", map[string]string{"PUNCHBOX_MQTT_PASSWORD": "from-env", "PUNCHBOX_MQTT_USERNAME": "env-user"}, "env-user", "from-env"},
		{"systemd credential", map[string]string{"CREDENTIALS_DIRECTORY": creds}, "file-user", "from-credential"},
		{"environment over credential", map[string]string{"CREDENTIALS_DIRECTORY": creds, "PUNCHBOX_MQTT_PASSWORD": "from-env"}, "file-user", "from-env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			c, err := Parse([]byte(src), t.TempDir(), env)
			if err != nil {
				t.Fatal(err)
			}
			if c.MQTT.Username != tt.user || c.MQTT.Password != tt.pass {
				t.Errorf("username, password = %q, %q; want %q, %q", c.MQTT.Username, c.MQTT.Password, tt.user, tt.pass)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "examples", "punchbox.yaml")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "terminals:\n  - {id: a, kind: zk, address: h, commkey: 1}\n"))
	f.Add([]byte("site: &a x\nbox: *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "/fuzz", noEnv)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
		}
	})
}
