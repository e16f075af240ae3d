package zkpull

import (
	"strings"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/drivers/driverstest"
)

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		address string
		opts    map[string]any
		zone    string
		wantErr string
		check   func(t *testing.T, term *Terminal)
	}{
		{"defaults", "192.168.1.201", nil, "", "", func(t *testing.T, term *Terminal) {
			o := term.opts
			if term.addr != "192.168.1.201:4370" || o.Transport != "auto" || o.CommKey != 0 || o.Timeout.D() != DefaultTimeout ||
				o.PollInterval.D() != time.Minute || !*o.Live || o.ClearLog != ClearNever || o.DisableTimeout.D() != 2*time.Minute {
				t.Errorf("defaults: addr %s, %+v", term.addr, o)
			}
		}},
		{"config keys", "10.0.0.5:5005", map[string]any{"transport": "udp", "commkey": 123456}, "Asia/Kolkata", "", func(t *testing.T, term *Terminal) {
			if term.addr != "10.0.0.5:5005" || term.opts.Transport != "udp" || term.opts.CommKey != 123456 || term.loc.String() != "Asia/Kolkata" {
				t.Errorf("got %s %+v %s", term.addr, term.opts, term.loc)
			}
		}},
		{"durations as text or seconds", "h", map[string]any{"poll_interval": "30s", "timeout": 2.5}, "", "", func(t *testing.T, term *Terminal) {
			if term.opts.PollInterval.D() != 30*time.Second || term.opts.Timeout.D() != 2500*time.Millisecond {
				t.Errorf("got %+v", term.opts)
			}
		}},
		{"ipv6", "[fd00::7]", nil, "", "", func(t *testing.T, term *Terminal) {
			if term.addr != "[fd00::7]:4370" {
				t.Errorf("addr = %s", term.addr)
			}
		}},
		{"unknown option", "h", map[string]any{"comkey": 1}, "", `unknown field "comkey"`, nil},
		{"bad transport", "h", map[string]any{"transport": "serial"}, "", `transport "serial"`, nil},
		{"comm key too big", "h", map[string]any{"commkey": 1000000}, "", "commkey 1000000", nil},
		{"bad clear policy", "h", map[string]any{"clear_log": "always"}, "", `clear_log "always"`, nil},
		{"bad duration", "h", map[string]any{"poll_interval": "soon"}, "", `duration "soon"`, nil},
		{"no address", "", nil, "", "no address", nil},
		{"bad zone", "h", nil, "Mars/Base", `zone "Mars/Base"`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := punchbox.Terminal{ID: "gate-a", Kind: punchbox.KindZK, Address: tt.address, Options: tt.opts, Zone: tt.zone, Enabled: true}
			term, err := drivers.New(cfg, drivers.Deps{Sink: &driverstest.Sink{}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, term.(*Terminal))
		})
	}
}
