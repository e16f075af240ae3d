package central

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/punchbox/punchbox"
	"github.com/punchbox/punchbox/drivers"
	"github.com/punchbox/punchbox/internal/eventually"
	"github.com/punchbox/punchbox/store"
	"github.com/punchbox/punchbox/store/storetest"
	"github.com/punchbox/punchbox/sync/central/brokertest"
)

func testLogger() *slog.Logger {
	if os.Getenv("PUNCHBOX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fakeTerminals stands in for the supervisor: healths the test sets, and
// terminals with function-field commands.
type fakeTerminals struct {
	mu       sync.Mutex
	healths  map[string]drivers.Health
	terms    map[string]drivers.Terminal
	watchers []chan struct{}
}

func newFakeTerminals() *fakeTerminals {
	return &fakeTerminals{healths: map[string]drivers.Health{}, terms: map[string]drivers.Terminal{}}
}

func (f *fakeTerminals) set(h drivers.Health, t drivers.Terminal) {
	f.mu.Lock()
	f.healths[h.ID] = h
	if t != nil {
		f.terms[h.ID] = t
	}
	for _, w := range f.watchers {
		select {
		case w <- struct{}{}:
		default:
		}
	}
	f.mu.Unlock()
}

func (f *fakeTerminals) Healths() []drivers.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []drivers.Health
	for _, h := range f.healths {
		out = append(out, h)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Watch gives every watcher its own channel, as the supervisor does.
func (f *fakeTerminals) Watch() (<-chan struct{}, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan struct{}, 1)
	f.watchers = append(f.watchers, ch)
	return ch, func() {}
}

func (f *fakeTerminals) Terminal(id string) (drivers.Terminal, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.terms[id]
	return t, ok
}

// fakeCommander is a terminal whose commands run function fields.
type fakeCommander struct {
	id          string
	SetTimeFunc func(ctx context.Context, t time.Time) error
	PullFunc    func(ctx context.Context) (drivers.PullResult, error)
	WriteFunc   func(ctx context.Context, es []punchbox.Employee) error
}

func (c *fakeCommander) ID() string                    { return c.id }
func (c *fakeCommander) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (c *fakeCommander) SetTime(ctx context.Context, t time.Time) error {
	if c.SetTimeFunc == nil {
		return drivers.ErrOffline
	}
	return c.SetTimeFunc(ctx, t)
}
func (c *fakeCommander) PullNow(ctx context.Context) (drivers.PullResult, error) {
	if c.PullFunc == nil {
		return drivers.PullResult{}, drivers.ErrOffline
	}
	return c.PullFunc(ctx)
}
func (c *fakeCommander) ReadUsers(context.Context) ([]punchbox.Employee, error) { return nil, nil }
func (c *fakeCommander) WriteUsers(ctx context.Context, es []punchbox.Employee) error {
	if c.WriteFunc == nil {
		return drivers.ErrOffline
	}
	return c.WriteFunc(ctx, es)
}

// box is a store, a link and its broker, as a test drives them.
type box struct {
	db     *store.DB
	terms  *fakeTerminals
	link   *Link
	cancel context.CancelFunc
	done   chan error
}

func testOptions(url string) Options {
	return Options{URL: url, Site: "acme", Box: "box-01", Version: "test", MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		KeepAlive: 5 * time.Second, ConnectTimeout: 5 * time.Second}
}

// startBox runs a link on db with opts until the test ends.
func startBox(t testing.TB, db *store.DB, opts Options) *box {
	t.Helper()
	if db == nil {
		db = storetest.Open(t)
	}
	b := &box{db: db, terms: newFakeTerminals(), done: make(chan error, 1)}
	var err error
	b.link, err = New(opts, db, b.terms, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() { b.done <- b.link.Run(ctx) }()
	t.Cleanup(func() { b.stop(t) })
	return b
}

func (b *box) stop(t testing.TB) {
	b.cancel()
	if err := eventually.Recv(t, "the link to stop", b.done); err != nil {
		t.Errorf("link Run: %v", err)
	}
	b.done <- nil
}

// punchMsg is a punches message as a consumer decodes it.
type punchMsg struct {
	Schema     string `json:"schema"`
	Site       string `json:"site"`
	Box        string `json:"box"`
	Session    int64  `json:"session"`
	Batch      int64  `json:"batch"`
	Historical bool   `json:"historical"`
	Resend     string `json:"resend"`
	Count      int    `json:"count"`
	Punches    []struct {
		ID       string `json:"id"`
		Seq      int64  `json:"seq"`
		Terminal string `json:"terminal"`
		PIN      string `json:"pin"`
		Local    string `json:"local_time"`
		Time     string `json:"time"`
		State    struct {
			Code int    `json:"code"`
			Name string `json:"name"`
		} `json:"state"`
	} `json:"punches"`
}

func decodeBatches(t testing.TB, msgs []brokertest.Message) []punchMsg {
	t.Helper()
	out := make([]punchMsg, 0, len(msgs))
	for _, m := range msgs {
		var p punchMsg
		if err := json.Unmarshal(m.Payload, &p); err != nil {
			t.Fatalf("punches message: %v\n%s", err, m.Payload)
		}
		if p.Schema != SchemaPunches || p.Count != len(p.Punches) {
			t.Fatalf("bad punches message header %+v", p)
		}
		out = append(out, p)
	}
	return out
}

// received summarises what central got: distinct punch ids and how often
// each batch number arrived.
type received struct {
	ids     map[string]int
	batches map[int64][]string // batch → ids, as first received
	maxB    int64
}

func summarize(t testing.TB, batches []punchMsg) received {
	t.Helper()
	r := received{ids: map[string]int{}, batches: map[int64][]string{}}
	for _, b := range batches {
		var ids []string
		for _, p := range b.Punches {
			r.ids[p.ID]++
			ids = append(ids, p.ID)
		}
		if _, seen := r.batches[b.Batch]; !seen {
			r.batches[b.Batch] = ids
		}
		r.maxB = max(r.maxB, b.Batch)
	}
	return r
}

// checkComplete verifies that every stored punch arrived and the batch
// sequence has no gap.
func checkComplete(t testing.TB, db *store.DB, r received) {
	t.Helper()
	n := 0
	err := db.Each(context.Background(), store.Filter{}, func(p store.StoredPunch) error {
		if r.ids[p.ID] == 0 {
			return fmt.Errorf("punch %d (%s) never reached central", p.Seq, p.ID)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.ids) != n {
		t.Fatalf("central got %d distinct punches, the box holds %d", len(r.ids), n)
	}
	for b := int64(1); b <= r.maxB; b++ {
		if _, ok := r.batches[b]; !ok {
			t.Fatalf("batch %d missing (highest %d)", b, r.maxB)
		}
	}
}

func waitBacklogEmpty(t testing.TB, db *store.DB) {
	t.Helper()
	eventually.OK(t, func() string {
		b, err := db.Backlog(context.Background())
		if err == nil && b.Pending == 0 && b.LastSeq > 0 {
			return ""
		}
		return fmt.Sprintf("backlog never emptied: %+v, %v", b, err)
	})
}
