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

func terminalStatus(site, box string, h drivers.Health, now time.Time) TerminalStatus {
	return TerminalStatus{
		Schema: SchemaTerminal, Site: site, Box: box, ID: h.ID, Kind: h.Kind, State: string(h.State), Since: h.Since.UTC(),
		LastError: h.LastError, LastErrorAt: h.LastErrorAt.UTC(), LastContact: h.LastContact.UTC(),
		Serial: h.Info.Serial, Platform: h.Info.Platform, Firmware: h.Info.Firmware, Transport: h.Info.Transport,
		ClockOffsetSeconds: h.Info.ClockOffset.Seconds(), Records: h.Info.Records, RecordCapacity: h.Info.RecordCap,
		Users: h.Info.Users, UserCapacity: h.Info.UserCap,
		RejectedRecords: h.Info.RejectedRecords, MalformedEvents: h.Info.MalformedEvents, DroppedEvents: h.Info.DroppedEvents,
		LogError: h.Info.LogError, Time: now.UTC(),
	}
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
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own types, which always encode
	}
	return b
}
