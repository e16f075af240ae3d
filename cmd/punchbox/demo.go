package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/punchbox/punchbox/cmd/punchbox/internal/config"
	"github.com/punchbox/punchbox/drivers/zksim"
	"github.com/punchbox/punchbox/store"
)

// demoTerminal is one simulated terminal of the demo.
type demoTerminal struct {
	id, name  string
	transport string
	commKey   uint32
	users     int
	backlog   int
	rate      float64 // punches per second
	sim       *zksim.Sim
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "demo")
	dataDir := fs.String("data-dir", filepath.Join(os.TempDir(), "punchbox-demo"), "where the demo keeps its store: a new or empty directory, or one an earlier demo made (emptied at start unless --keep)")
	keep := fs.Bool("keep", false, "keep the data directory of the last run")
	listen := fs.String("listen", "127.0.0.1:8080", "address of the panel (plain HTTP)")
	every := fs.Duration("progress", 5*time.Second, "how often to print a progress line")
	rate := fs.Float64("rate", 1, "how busy the terminals are: 1 is about one punch a second in all")
	level := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if err := prepareDemoDir(*dataDir, *keep); err != nil {
		return err
	}

	// An embedded broker on a free loopback port.
	brokerAddr, err := freeLoopback()
	if err != nil {
		return err
	}
	broker := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := broker.AddHook(new(auth.AllowHook), nil); err != nil {
		return err
	}
	if err := broker.AddListener(listeners.NewTCP(listeners.Config{ID: "demo", Address: brokerAddr})); err != nil {
		return err
	}
	if err := broker.Serve(); err != nil {
		return fmt.Errorf("start the embedded broker: %w", err)
	}
	defer broker.Close()

	// Three simulated terminals: one over TCP, one over UDP with a comm
	// key, one with a backlog of 40,000 punches in its log.
	terms := []*demoTerminal{
		{id: "gate-a", name: "Main gate", transport: "tcp", users: 40, rate: 0.5 * *rate},
		{id: "canteen", name: "Canteen", transport: "udp", commKey: 4321, users: 40, rate: 0.3 * *rate},
		{id: "warehouse", name: "Warehouse", transport: "tcp", users: 20, backlog: 40_000, rate: 0.2 * *rate},
	}
	for i, t := range terms {
		t.sim = zksim.New(zksim.Config{Serial: fmt.Sprintf("DEMO%07d", i+1), DeviceName: t.name, CommKey: t.commKey, Pacing: zksim.PacingFirmware})
		users := zksim.GenerateUsers(t.users)
		t.sim.SetUsers(users)
		if t.backlog > 0 {
			t.sim.AddRecords(zksim.GenerateRecords(users, t.backlog, time.Now().AddDate(0, -3, 0), int64(i))...)
		}
		if err := t.sim.Listen("127.0.0.1:0"); err != nil {
			return fmt.Errorf("start simulated terminal %s: %w", t.id, err)
		}
	}

	cfg, err := demoConfig(*dataDir, *listen, brokerAddr, *level, terms)
	if err != nil {
		return err
	}
	user, password, err := demoAdmin(ctx, cfg.DataDir)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, e.stderr, e.lookup)

	// The terminals live for the whole demo; the box inside may restart
	// (a restore from the panel does that).
	var cs []component
	for i, t := range terms {
		cs = append(cs,
			component{"terminal " + t.id, t.sim.Run},
			component{"punches at " + t.id, func(ctx context.Context) error { return t.sim.RunPunches(ctx, t.rate, int64(i)) }})
	}
	first := true
	cs = append(cs, component{"box", func(ctx context.Context) error {
		err := serveLoop(ctx, e, cfg, log, func(a *app) {
			a.components = append(a.components, component{"progress", func(ctx context.Context) error {
				return demoProgress(ctx, e.stdout, a, terms, *every)
			}})
			if !first {
				return
			}
			first = false
			host, port, _ := net.SplitHostPort(brokerAddr)
			fmt.Fprintf(e.stdout, `punchbox demo: the whole appliance on this machine

  panel        %s  (sign in as %s, password %s)
  broker       tcp://%s (embedded, no login)
  watch it     mosquitto_sub -h %s -p %s -t 'punchbox/v1/demo/demo-01/#' -v
  terminals    gate-a %s (TCP), canteen %s (UDP, comm key 4321), warehouse %s (TCP, 40,000 punches in its log)
  data         %s

Ctrl-C stops it.

`, a.srv.URL(), user, password, brokerAddr, host, port, terms[0].sim.Addr(), terms[1].sim.Addr(), terms[2].sim.Addr(), *dataDir)
		})
		if err == nil && ctx.Err() == nil {
			err = errStoppedEarly
		}
		return err
	}})
	return runComponents(ctx, stopBudget+time.Second, func() {}, cs)
}

// demoMarker is the file the demo leaves in its data directory: it empties
// only a directory it made, never, say, a box's real data directory.
const demoMarker = ".punchbox-demo"

// errNotDemoDir refuses a --data-dir the demo did not make.
var errNotDemoDir = errors.New("not a demo data directory")

// prepareDemoDir makes dir ready for a run: a new or empty directory is
// used; one an earlier demo made (it holds demoMarker) is emptied first,
// unless keep; anything else is refused, untouched.
func prepareDemoDir(dir string, keep bool) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return usageError{fmt.Errorf("--data-dir %s: %w", dir, err)}
	case len(entries) > 0:
		fi, err := os.Lstat(filepath.Join(dir, demoMarker))
		if err != nil || !fi.Mode().IsRegular() {
			return usageError{fmt.Errorf("--data-dir %s: %w: it is not empty and an earlier demo did not make it (it has no %s); "+
				"it may be a box's data directory, which the demo would empty: give a new or empty directory", dir, errNotDemoDir, demoMarker)}
		}
		if !keep {
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("empty the demo data directory: %w", err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo data directory: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by punchbox demo, which empties this directory when it next starts\n"), 0o600)
}

// demoAdmin makes sure the demo box has an admin: on a new data directory
// "demo" with a random password, kept (0600) in the data directory so that
// a --keep run can show it again. There is no default password, not even
// in the demo.
func demoAdmin(ctx context.Context, dataDir string) (name, password string, err error) {
	const user = "demo"
	pwFile := filepath.Join(dataDir, "demo-password")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", "", fmt.Errorf("demo data directory: %w", err)
	}
	db, err := store.Open(ctx, filepath.Join(dataDir, store.FileName), store.Options{})
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	if _, err := db.UserByName(ctx, user); err == nil {
		b, err := os.ReadFile(pwFile)
		if err != nil {
			return user, "(see an earlier run)", nil
		}
		return user, strings.TrimSpace(string(b)), nil
	}
	raw := make([]byte, 12)
	if _, err := rand.Read(raw); err != nil {
		return "", "", err
	}
	password = base64.RawURLEncoding.EncodeToString(raw)
	if _, err := db.CreateUser(ctx, user, store.RoleAdmin, password); err != nil {
		return "", "", fmt.Errorf("demo admin: %w", err)
	}
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("demo admin: %w", err)
	}
	return user, password, nil
}

// demoConfig is the configuration of the demo box, validated like a file.
func demoConfig(dataDir, listen, broker, level string, terms []*demoTerminal) (*config.Config, error) {
	y := fmt.Sprintf("site: demo\nbox: demo-01\ndata_dir: %q\ntimezone: UTC\nlog: {level: %s}\nweb: {listen: %q, insecure_http: true}\nmqtt: {url: \"tcp://%s\"}\nterminals:\n",
		dataDir, level, listen, broker)
	for _, t := range terms {
		y += fmt.Sprintf("  - {id: %s, name: %q, kind: zk, address: %q, transport: %s, commkey: %d}\n", t.id, t.name, t.sim.Addr(), t.transport, t.commKey)
	}
	cfg, err := config.Parse([]byte(y), dataDir, func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, fmt.Errorf("demo configuration: %w", err)
	}
	return cfg, nil
}

// demoProgress prints a line every so often: punches made at the
// terminals, stored on the box, delivered to the broker, still waiting.
func demoProgress(ctx context.Context, w io.Writer, a *app, terms []*demoTerminal, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		captured := 0
		for _, term := range terms {
			captured += len(term.sim.Records())
		}
		stored, err := a.db.CountPunches(ctx)
		if err != nil {
			continue
		}
		b, err := a.db.Backlog(ctx)
		if err != nil {
			continue
		}
		link := "connected"
		if a.link != nil && !a.link.State().Connected {
			link = "not connected"
		}
		online := 0
		for _, h := range a.sup.Healths() {
			if h.State == "online" {
				online++
			}
		}
		fmt.Fprintf(w, "%s  captured %d  stored %d  delivered %d  backlog %d  terminals online %d/%d  broker %s\n",
			time.Now().Format("15:04:05"), captured, stored, b.LastSeq-b.Pending, b.Pending, online, len(terms), link)
	}
}

func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}
