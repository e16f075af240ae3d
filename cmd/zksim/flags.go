package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/punchbox/punchbox/drivers/zksim"
)

// setup is what the command line asks for.
type setup struct {
	cfg            zksim.Config
	listen         string
	users, records int
	seed           int64
	rate           float64
	faults         []zksim.Fault
	dump           string
	level          slog.Level
	hostile        string // serve a hostile terminal instead: "all" or names
}

// parseArgs parses and checks the flags. Errors are the caller's to print.
func parseArgs(args []string, stderr io.Writer) (*setup, error) {
	st := &setup{}
	fs := flag.NewFlagSet("zksim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: zksim [flags]\n\nA simulated ZK terminal on TCP and UDP. It runs until SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&st.listen, "listen", ":4370", "`address` to serve on, TCP and UDP on the same port")
	fs.StringVar(&st.cfg.Serial, "serial", zksim.DefaultSerial, "serial number")
	fs.StringVar(&st.cfg.Platform, "platform", zksim.DefaultPlatform, "platform")
	fs.StringVar(&st.cfg.DeviceName, "name", zksim.DefaultDeviceName, "device name")
	fs.StringVar(&st.cfg.Firmware, "firmware", zksim.DefaultFirmware, "firmware version string")
	fs.IntVar(&st.users, "users", 10, "generated users (UID i, PIN 1000+i)")
	fs.IntVar(&st.records, "records", 0, "generated attendance records, from 2024-01-01 08:00:00 (set by -seed)")
	recordSize := fs.Int("record-size", 40, "attendance record size: 40, 16 or 8")
	userSize := fs.Int("user-size", 72, "user record size: 72 or 28")
	commKey := fs.Uint64("commkey", 0, "comm key (0: none)")
	fs.Float64Var(&st.rate, "rate", 0, "random punches per second, sent as realtime events (0: none)")
	pacing := fs.String("pacing", "firmware", "reply pacing: firmware (20 ms between DATA packets) or fast")
	fs.Func("fault", "inject a fault `spec`, repeatable: drop-after=N or corrupt-after=N act on the (N+1)-th DATA packet of a range transfer, once or with ,count=K K times (-1: for ever); delay=D sleeps D before every reply, or with ,count=K before K replies", func(v string) error {
		f, err := parseFault(v)
		st.faults = append(st.faults, f)
		return err
	})
	fs.Int64Var(&st.seed, "seed", 1, "seed for generated records and punches")
	fs.DurationVar(&st.cfg.ClockOffset, "clock-offset", 0, "device clock offset from this host's clock, e.g. -90s")
	tz := fs.String("timezone", "UTC", "IANA zone of the device clock")
	fs.StringVar(&st.dump, "dump", "", "write the users and records held, as JSON, to `file` at start, on SIGUSR1 and at exit")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&st.hostile, "hostile", "", "serve a terminal that lies instead of the simulator, for testing clients: `all` (a rotation of every attack, one per connection) or some of liar, bad-log, big-events, many-events, no-serial, comma separated; only -listen and -log-level apply")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, errShown{err} // flag printed it, with the usage
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}

	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	switch *recordSize {
	case 40, 16, 8:
		st.cfg.RecordSize = *recordSize
	default:
		bad("-record-size %d: want 40, 16 or 8", *recordSize)
	}
	switch *userSize {
	case 72, 28:
		st.cfg.UserSize = *userSize
	default:
		bad("-user-size %d: want 72 or 28", *userSize)
	}
	if *commKey > math.MaxUint32 {
		bad("-commkey %d: over the 32-bit maximum", *commKey)
	}
	st.cfg.CommKey = uint32(*commKey)
	switch *pacing {
	case "firmware":
		st.cfg.Pacing = zksim.PacingFirmware
	case "fast":
		st.cfg.Pacing = zksim.PacingFast
	default:
		bad("-pacing %q: want firmware or fast", *pacing)
	}
	if st.users < 0 || st.users > math.MaxUint16 {
		bad("-users %d: want 0 to 65535", st.users)
	}
	if st.records < 0 {
		bad("-records %d: want 0 or more", st.records)
	}
	if st.rate < 0 || math.IsNaN(st.rate) || math.IsInf(st.rate, 0) {
		bad("-rate %g: want 0 or more", st.rate)
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		bad("-timezone %q: %w", *tz, err)
	}
	st.cfg.Location = loc
	if err := st.level.UnmarshalText([]byte(*level)); err != nil {
		bad("-log-level %q: want debug, info, warn or error", *level)
	}
	return st, errors.Join(errs...)
}

// errShown is an error already printed.
type errShown struct{ error }

func (e errShown) Unwrap() error { return e.error }

// parseFault parses one -fault value.
func parseFault(v string) (zksim.Fault, error) {
	spec, count, hasCount := strings.Cut(v, ",")
	name, arg, ok := strings.Cut(spec, "=")
	if !ok {
		return zksim.Fault{}, fmt.Errorf("%q: want drop-after=N, corrupt-after=N or delay=D", v)
	}
	var f zksim.Fault
	switch name {
	case "drop-after", "corrupt-after":
		n, err := strconv.Atoi(arg)
		if err != nil || n < 0 {
			return f, fmt.Errorf("%q: %s wants a packet count of 0 or more", v, name)
		}
		f.Kind, f.After = zksim.FaultDrop, n
		if name == "corrupt-after" {
			f.Kind = zksim.FaultCorrupt
		}
	case "delay":
		d, err := time.ParseDuration(arg)
		if err != nil || d <= 0 {
			return f, fmt.Errorf("%q: delay wants a positive duration such as 50ms", v)
		}
		f.Kind, f.Delay, f.Count = zksim.FaultDelay, d, -1
	default:
		return f, fmt.Errorf("%q: unknown fault %q (want drop-after, corrupt-after or delay)", v, name)
	}
	if hasCount {
		c, ok := strings.CutPrefix(count, "count=")
		n, err := strconv.Atoi(c)
		if !ok || err != nil || n < -1 || n == 0 {
			return f, fmt.Errorf("%q: want count=K with K > 0, or -1 for ever", v)
		}
		f.Count = n
	}
	return f, nil
}
