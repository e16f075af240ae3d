package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers/zkpull"
	"github.com/punchbox/punchbox/protocol/zk"
)

// zkOptions are the flags shared by the "punchbox zk" subcommands.
type zkOptions struct {
	commKey  uint
	udp, tcp bool
	asJSON   bool
	timeout  time.Duration
	zone     string
	set      bool
}

const zkUsage = `Usage: punchbox zk info|users|logs|time ADDRESS [options]

Use a ZK terminal by hand, without the daemon: check it before adding it.

  info    identity, firmware, counts, capacities and clock
  users   the users enrolled on it
  logs    its whole attendance log, in its order
  time    its clock against this machine's (--set sets it)

ADDRESS is host or host:port (port 4370 by default). The transport is TCP,
then UDP if TCP fails, unless --tcp or --udp says otherwise.

Options:`

func runZK(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "zk")
	var o zkOptions
	fs.UintVar(&o.commKey, "commkey", 0, "the terminal's comm key")
	fs.BoolVar(&o.udp, "udp", false, "use UDP only")
	fs.BoolVar(&o.tcp, "tcp", false, "use TCP only")
	fs.BoolVar(&o.asJSON, "json", false, "print JSON (logs and users: one object per line)")
	fs.DurationVar(&o.timeout, "timeout", zkpull.DefaultTimeout, "wait for each reply")
	fs.StringVar(&o.zone, "timezone", "Local", "IANA zone of the terminal's clock")
	fs.BoolVar(&o.set, "set", false, "time: set the terminal's clock to this machine's")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), zkUsage)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return usageError{errors.New("want a subcommand and an address")}
	}
	sub, addr := pos[0], pos[1]
	run, ok := map[string]func(context.Context, *env, *zkpull.Client, zkOptions) error{
		"info": zkInfo, "users": zkUsers, "logs": zkLogs, "time": zkTime,
	}[sub]
	if !ok {
		return usageError{fmt.Errorf("unknown zk subcommand %q: want info, users, logs or time", sub)}
	}
	if o.set && sub != "time" {
		return usageError{errors.New("--set goes with time")}
	}
	if o.commKey > 999999 {
		return usageError{fmt.Errorf("--commkey %d: want 0-999999", o.commKey)}
	}
	if _, err := time.LoadLocation(o.zone); err != nil {
		return usageError{fmt.Errorf("--timezone %q: unknown zone", o.zone)}
	}
	addr, err = zkpull.Address(addr)
	if err != nil {
		return usageError{err}
	}
	c, err := zkDial(ctx, addr, o)
	if err != nil {
		return err
	}
	defer c.Close()
	return run(ctx, e, c, o)
}

// parseInterspersed parses flags placed before, between or after the
// positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args, len(args)); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func zkDial(ctx context.Context, addr string, o zkOptions) (*zkpull.Client, error) {
	order := []string{"tcp", "udp"}
	switch {
	case o.udp && o.tcp:
		return nil, usageError{errors.New("--tcp and --udp exclude each other")}
	case o.udp:
		order = []string{"udp"}
	case o.tcp:
		order = []string{"tcp"}
	}
	var errs []error
	for _, tr := range order {
		c, err := zkpull.Dial(ctx, tr, addr, o.timeout)
		if err == nil {
			if err = c.Connect(ctx, uint32(o.commKey)); err == nil {
				return c, nil
			}
			c.Close()
			if errors.Is(err, zkpull.ErrWrongCommKey) || errors.Is(err, zkpull.ErrNoCommKey) {
				return nil, err
			}
		}
		errs = append(errs, fmt.Errorf("%s: %w", tr, err))
	}
	return nil, fmt.Errorf("connect %s: %w", addr, errors.Join(errs...))
}

func zkInfo(ctx context.Context, e *env, c *zkpull.Client, o zkOptions) error {
	loc, _ := time.LoadLocation(o.zone)
	info, err := zkpull.Inspect(ctx, c, loc, time.Now)
	if err != nil {
		return err
	}
	if o.asJSON {
		return json.NewEncoder(e.stdout).Encode(info)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "transport\t%s\n", info.Transport)
	fmt.Fprintf(w, "serial\t%s\n", info.Serial)
	fmt.Fprintf(w, "platform\t%s\n", info.Platform)
	fmt.Fprintf(w, "name\t%s\n", info.DeviceName)
	fmt.Fprintf(w, "firmware\t%s\n", info.Firmware)
	fmt.Fprintf(w, "users\t%d of %d\n", info.Users, info.UserCap)
	fmt.Fprintf(w, "records\t%d of %d\n", info.Records, info.RecordCap)
	fmt.Fprintf(w, "clock\t%s\n", describeOffset(info.ClockOffset))
	return w.Flush()
}

func describeOffset(d time.Duration) string {
	switch {
	case d == 0:
		return "in step with this machine"
	case d > 0:
		return fmt.Sprintf("%s ahead of this machine", d)
	default:
		return fmt.Sprintf("%s behind this machine", -d)
	}
}

func zkUsers(ctx context.Context, e *env, c *zkpull.Client, o zkOptions) error {
	users, _, err := c.ReadUsers(ctx, 0)
	if err != nil {
		return err
	}
	if o.asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, u := range users {
			if err := enc.Encode(struct {
				UID       uint16 `json:"uid"`
				PIN       string `json:"pin"`
				Name      string `json:"name"`
				Privilege string `json:"privilege"`
				Card      uint32 `json:"card,omitempty"`
				Disabled  bool   `json:"disabled,omitempty"`
			}{u.UID, u.UserID, u.Name, punchbox.Privilege(u.Privilege & zk.PrivRoleMask).String(), u.Card, u.Privilege&zk.PrivDisabled != 0}); err != nil {
				return err
			}
		}
		return nil
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "UID\tPIN\tNAME\tPRIVILEGE\tCARD\tDISABLED")
	for _, u := range users {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%v\n", u.UID, u.UserID, u.Name, punchbox.Privilege(u.Privilege&zk.PrivRoleMask), u.Card, u.Privilege&zk.PrivDisabled != 0)
	}
	fmt.Fprintf(w, "%d users\n", len(users))
	return w.Flush()
}

// logLine is one punch of "zk logs --json".
type logLine struct {
	ID     string `json:"id"`
	PIN    string `json:"pin"`
	Time   string `json:"time"`
	State  int    `json:"state"`
	Verify int    `json:"verify"`
}

func zkLogs(ctx context.Context, e *env, c *zkpull.Client, o zkOptions) error {
	serial, err := c.Option(ctx, "~SerialNumber")
	if err != nil {
		return err
	}
	sizes, _ := c.Sizes(ctx)
	// Lock the keypad while reading, with the terminal's own timeout as a
	// safety net, and always unlock.
	if err := c.Disable(ctx, 2*time.Minute); err != nil {
		return err
	}
	recs, size, err := c.ReadAttendance(ctx, sizes.Records)
	if eerr := c.Enable(context.WithoutCancel(ctx)); err == nil {
		err = eerr
	}
	if err != nil {
		return err
	}
	var uids map[uint16]string
	if size == zk.AttSize8 {
		users, _, err := c.ReadUsers(ctx, sizes.Users)
		if err != nil {
			return err
		}
		uids = make(map[uint16]string, len(users))
		for _, u := range users {
			uids[u.UID] = u.UserID
		}
	}
	return writeLogs(e.stdout, serial, recs, uids, o.asJSON)
}

func writeLogs(w io.Writer, serial string, recs []zk.Attendance, uids map[uint16]string, asJSON bool) error {
	enc := json.NewEncoder(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if !asJSON {
		fmt.Fprintln(tw, "TIME\tPIN\tSTATE\tVERIFY\tID")
	}
	for _, r := range recs {
		pin := r.UserID
		if pin == "" {
			if pin = uids[r.UID]; pin == "" {
				pin = fmt.Sprint(r.UID)
			}
		}
		local := punchbox.LocalTime(r.Time)
		l := logLine{
			ID: punchbox.PunchID(serial, pin, local, punchbox.PunchState(r.State)), PIN: pin, Time: local.String(),
			State: int(r.State), Verify: int(r.Verify),
		}
		if asJSON {
			if err := enc.Encode(l); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", l.Time, l.PIN, punchbox.PunchState(r.State), punchbox.VerifyMode(r.Verify), l.ID)
	}
	if !asJSON {
		fmt.Fprintf(tw, "%d records\n", len(recs))
	}
	return tw.Flush()
}

func zkTime(ctx context.Context, e *env, c *zkpull.Client, o zkOptions) error {
	loc, _ := time.LoadLocation(o.zone)
	if o.set {
		if err := c.SetTime(ctx, zk.Time(punchbox.LocalTimeOf(time.Now().In(loc)))); err != nil {
			return err
		}
	}
	info, err := zkpull.Inspect(ctx, c, loc, time.Now)
	if err != nil {
		return err
	}
	now := time.Now().In(loc)
	term := now.Add(info.ClockOffset)
	if o.asJSON {
		return json.NewEncoder(e.stdout).Encode(map[string]any{
			"terminal": punchbox.LocalTimeOf(term).String(), "machine": punchbox.LocalTimeOf(now).String(),
			"zone": loc.String(), "offset_seconds": info.ClockOffset.Seconds(), "set": o.set,
		})
	}
	fmt.Fprintf(e.stdout, "terminal  %s\nmachine   %s (%s)\noffset    %s\n", punchbox.LocalTimeOf(term), punchbox.LocalTimeOf(now), loc, describeOffset(info.ClockOffset))
	return nil
}
