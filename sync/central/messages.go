package central

import (
	"encoding/json"
	"time"

	"github.com/punchbox/punchbox/drivers"
)

// Status is the retained message on status: the birth sent on every
// connect, refreshed every minute, and the will (offline).
type Status struct {
	Schema    string       `json:"schema"`
	Site      string       `json:"site"`
	Box       string       `json:"box"`
	State     string       `json:"state"`            // online or offline
	Reason    string       `json:"reason,omitempty"` // offline: "lost" (the will) or "stopped"
	Session   int64        `json:"session"`          // grows with every connect
	Epoch     string       `json:"epoch,omitempty"`  // the numbering of batches and seqs (see batchHeader)
	Version   string       `json:"version,omitempty"`
	Started   time.Time    `json:"started,omitzero"` // when the process started
	Time      time.Time    `json:"time"`
	Backlog   *BacklogInfo `json:"backlog,omitempty"`
	Terminals []string     `json:"terminals,omitempty"` // ids of the box's terminals
}

// BacklogInfo says what waits to be delivered.
type BacklogInfo struct {
	Pending      int64   `json:"pending"`       // punches not yet acknowledged
	AgeSeconds   float64 `json:"age_seconds"`   // how long the oldest has waited
	DeliveredSeq int64   `json:"delivered_seq"` // every punch up to this outbox seq is delivered
	LastSeq      int64   `json:"last_seq"`      // the newest punch's outbox seq
}

// TerminalStatus is the retained message on terminals/<id>/status.
type TerminalStatus struct {
	Schema             string    `json:"schema"`
	Site               string    `json:"site"`
	Box                string    `json:"box"`
	ID                 string    `json:"id"`
	Kind               string    `json:"kind"`
	State              string    `json:"state"` // connecting, online, offline, error, disabled
	Since              time.Time `json:"since"`
	LastError          string    `json:"last_error,omitempty"`
	LastErrorAt        time.Time `json:"last_error_at,omitzero"`
	LastContact        time.Time `json:"last_contact,omitzero"`
	Serial             string    `json:"serial,omitempty"`
	Platform           string    `json:"platform,omitempty"`
	Firmware           string    `json:"firmware,omitempty"`
	Transport          string    `json:"transport,omitempty"`
	ClockOffsetSeconds float64   `json:"clock_offset_seconds"`
	Records            int       `json:"records"`
	RecordCapacity     int       `json:"record_capacity"`
	Users              int       `json:"users"`
	UserCapacity       int       `json:"user_capacity"`
	RejectedRecords    int       `json:"rejected_records"`    // records of its log that cannot be punches, set aside
	MalformedEvents    int       `json:"malformed_events"`    // live events that could not be punches
	DroppedEvents      int       `json:"dropped_events"`      // live events dropped unread
	LogError           string    `json:"log_error,omitempty"` // why the box refuses to read its log
	Time               time.Time `json:"time"`
}

// terminalStatus builds a terminal's status from its health, clamped to
// the schema whatever the driver reported: bounded, clean strings, counts
// not below 0, enums within their values. ok is false for a terminal of a
// kind the contract does not know, which is not published.
func terminalStatus(site, box string, h drivers.Health, now time.Time) (ts TerminalStatus, ok bool) {
	kind := oneOf(h.Kind, "", "zk", "zk-push", "serial")
	state := oneOf(string(h.State), string(drivers.StateError), string(drivers.StateConnecting), string(drivers.StateOnline),
		string(drivers.StateOffline), string(drivers.StateError), string(drivers.StateDisabled))
	ts = TerminalStatus{
		Schema: SchemaTerminal, Site: site, Box: box, ID: clampString(h.ID, maxName), Kind: kind, State: state, Since: jsonTime(h.Since),
		LastError: clampString(h.LastError, maxMessage), LastErrorAt: jsonTime(h.LastErrorAt), LastContact: jsonTime(h.LastContact),
		Serial: clampString(h.Info.Serial, maxText), Platform: clampString(h.Info.Platform, maxText), Firmware: clampString(h.Info.Firmware, maxText),
		Transport: oneOf(h.Info.Transport, "", "tcp", "udp"), ClockOffsetSeconds: h.Info.ClockOffset.Seconds(),
		Records: nonNegative(h.Info.Records), RecordCapacity: nonNegative(h.Info.RecordCap),
		Users: nonNegative(h.Info.Users), UserCapacity: nonNegative(h.Info.UserCap),
		RejectedRecords: nonNegative(h.Info.RejectedRecords), MalformedEvents: nonNegative(h.Info.MalformedEvents),
		DroppedEvents: nonNegative(h.Info.DroppedEvents), LogError: clampString(h.Info.LogError, maxMessage), Time: jsonTime(now),
	}
	return ts, kind != ""
}

// Event is a message on events.
type Event struct {
	Schema   string         `json:"schema"`
	Site     string         `json:"site"`
	Box      string         `json:"box"`
	Type     string         `json:"type"`     // see the Event* constants
	Severity string         `json:"severity"` // info, warning or critical
	Terminal string         `json:"terminal,omitempty"`
	Message  string         `json:"message"`
	Details  map[string]any `json:"details,omitempty"`
	Time     time.Time      `json:"time"`
}

// Event types.
const (
	EventTerminalOffline      = "terminal-offline"
	EventTerminalOnline       = "terminal-online"
	EventClockDrift           = "clock-drift"
	EventDiskLow              = "disk-low"
	EventLogNearCapacity      = "terminal-log-near-capacity"
	EventBacklogOld           = "backlog-old"
	EventStoreWritesFail      = "store-writes-fail"
	EventStoreWritesRecovered = "store-writes-recovered"
)

// CmdResult is the answer to a command, on cmd-result.
type CmdResult struct {
	Schema    string    `json:"schema"`
	Site      string    `json:"site"`
	Box       string    `json:"box"`
	RequestID string    `json:"request_id"`
	Command   string    `json:"command"`
	OK        bool      `json:"ok"`
	Error     *CmdError `json:"error,omitempty"`
	Result    any       `json:"result,omitempty"`
	Time      time.Time `json:"time"`
}

// CmdError says why a command failed.
type CmdError struct {
	Code    string `json:"code"` // bad_request, unknown_command, not_found, offline, failed
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Ack is what central publishes on ack in end-to-end mode: every batch up
// to Batch is stored on its side.
type Ack struct {
	Schema string `json:"schema"`
	Batch  int64  `json:"batch"`
	Epoch  string `json:"epoch,omitempty"` // optional: the batch's epoch
}

// mustJSON encodes one of the box's own messages, which always encode:
// their builders clamp what could not (times, non-finite numbers).
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
