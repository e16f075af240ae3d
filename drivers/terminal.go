package drivers

import (
	"context"
	"log/slog"
	"time"

	"github.com/punchbox/punchbox"
)

// Terminal owns the link to one terminal. Constructors do no I/O and start
// no goroutines.
type Terminal interface {
	// ID is the box's name for the terminal.
	ID() string
	// Run owns the link: it connects, reads punches, hands them to the Sink
	// and acknowledges them to the terminal only after Put returned. It
	// returns nil once ctx is done, and an error when the link fails; the
	// supervisor then reconnects with backoff. No goroutine it started may
	// outlive its return.
	Run(ctx context.Context) error
}

// Sink takes punches. Put returns only after the punches are durably
// committed, and is idempotent on the punch id: a punch put twice is stored
// once. The store implements it.
type Sink interface {
	Put(ctx context.Context, punches []punchbox.Punch) error
}

// DeliveryChecker is implemented by a Sink that knows whether punches have
// been acknowledged upstream. Drivers use it before clearing a terminal's
// log under the "delivered" policy.
type DeliveryChecker interface {
	// Delivered reports whether every punch with one of ids is stored and
	// acknowledged upstream.
	Delivered(ctx context.Context, ids []string) (bool, error)
}

// MaxRejectedRaw bounds the bytes kept of one rejected record.
const MaxRejectedRaw = 256

// Rejected is a record a terminal sent that cannot be a punch: a time that
// is no date (0, erased flash), a PIN with control characters, bytes of no
// known record form. It is never published as a punch; it is set aside,
// counted and kept raw (at most MaxRejectedRaw bytes) for inspection, and
// shown on the terminal's page, while the terminal's good records go on.
type Rejected struct {
	TerminalID string
	Serial     string          // the terminal's serial number; "" when not known yet
	Source     punchbox.Source // pull (a log record) or live (a realtime event)
	Reason     string          // why, for a person: "time 0xffffffff is not a date"
	Raw        []byte          // the record as the terminal sent it, cut at MaxRejectedRaw
	Received   time.Time       // the box's clock when it was read
}

// RejectKeeper is implemented by a Sink that keeps rejected records. Drivers
// hand it what they set aside before they go on with the good records.
// Reject is idempotent on the terminal and the raw bytes: the same bad
// record read again (a whole log read twice) is kept once, its last-seen
// time updated. A Sink without it loses nothing a punch needs: drivers then
// only count and log what they set aside.
type RejectKeeper interface {
	Reject(ctx context.Context, recs []Rejected) error
}

// Cursor is what a driver remembers about a terminal's log between passes
// and across restarts.
type Cursor struct {
	Serial     string            `json:"serial,omitempty"`      // the terminal the cursor belongs to
	Records    int               `json:"records,omitempty"`     // records in the terminal's log after the last pass
	RecordSize int               `json:"record_size,omitempty"` // bytes per record in its log
	Rejected   int               `json:"rejected,omitempty"`    // of Records, how many were set aside: no punches
	LastID     string            `json:"last_id,omitempty"`     // punch id of the last record read
	LastTime   string            `json:"last_time,omitempty"`   // its device-local time
	Stamps     map[string]string `json:"stamps,omitempty"`      // push terminals: stamp per table
}

// StateStore keeps driver cursors. The store implements it.
type StateStore interface {
	LoadCursor(ctx context.Context, terminalID string) (Cursor, error) // zero Cursor when none
	SaveCursor(ctx context.Context, terminalID string, c Cursor) error
}

// Info is what a driver learned about its terminal. Its identity strings
// are what the terminal sent, cleaned of control characters and cut to
// MaxInfoText bytes; counts are never negative.
type Info struct {
	Serial      string        `json:"serial,omitempty"`
	Platform    string        `json:"platform,omitempty"`
	Firmware    string        `json:"firmware,omitempty"`
	DeviceName  string        `json:"device_name,omitempty"`
	Transport   string        `json:"transport,omitempty"`    // tcp or udp
	ClockOffset time.Duration `json:"clock_offset,omitempty"` // terminal clock minus box clock
	ClockRead   time.Time     `json:"clock_read,omitzero"`    // when ClockOffset was measured
	Users       int           `json:"users,omitempty"`
	Records     int           `json:"records,omitempty"`
	UserCap     int           `json:"user_cap,omitempty"`
	RecordCap   int           `json:"record_cap,omitempty"`

	// What the driver set aside rather than let it stop the terminal.
	RejectedRecords int    `json:"rejected_records,omitempty"` // records of the terminal's log that cannot be punches, as of the last read
	MalformedEvents int    `json:"malformed_events,omitempty"` // live events that could not be punches, since the driver started
	DroppedEvents   int    `json:"dropped_events,omitempty"`   // live events dropped unread (oversized, or over the queue's bound), since the driver started
	LogError        string `json:"log_error,omitempty"`        // why the box refuses to read the terminal's log; "" once it reads again
}

// MaxInfoText bounds each string of Info.
const MaxInfoText = 64

// Reporter receives what a running terminal reports. The supervisor gives
// each terminal its own.
type Reporter interface {
	// State reports a change of the link: connecting, online, offline or
	// error; err explains offline and error.
	State(s State, err error)
	// Info reports what the driver learned; it also counts as contact.
	Info(info Info)
	// Contact records a successful exchange with the terminal.
	Contact()
}

// Deps are what the box hands a driver.
type Deps struct {
	Sink   Sink
	State  StateStore   // nil: cursors are kept in memory only
	Logger *slog.Logger // scoped to the terminal by New
	Now    func() time.Time
	Zone   *time.Location // the site's zone, for terminals that name none
	Report Reporter       // set by the supervisor; nil reports nowhere
}

// Prober is implemented by terminals that can test their link without
// disturbing the running one: the panel's "test connection".
type Prober interface {
	Probe(ctx context.Context) (Info, error)
}

// PullResult says what a pull read.
type PullResult struct {
	Read int `json:"read"` // records read from the terminal
	Put  int `json:"put"`  // punches handed to the sink (new and already known)
}

// Commander is implemented by terminals that take commands. Commands run on
// the terminal's live link and fail with ErrOffline while it is down.
type Commander interface {
	// SetTime sets the terminal's clock to t, in the terminal's zone.
	SetTime(ctx context.Context, t time.Time) error
	// PullNow reads the whole attendance log at once.
	PullNow(ctx context.Context) (PullResult, error)
	// ReadUsers returns the users enrolled on the terminal.
	ReadUsers(ctx context.Context) ([]punchbox.Employee, error)
	// WriteUsers creates or updates users on the terminal, matched by PIN.
	WriteUsers(ctx context.Context, users []punchbox.Employee) error
}
