package drivers

import "time"

// State is the state of a terminal's link.
type State string

// States.
const (
	StateConnecting State = "connecting" // dialling or handshaking
	StateOnline     State = "online"     // connected and reading
	StateOffline    State = "offline"    // the link failed; retrying with backoff
	StateError      State = "error"      // a failure that retrying soon will not fix
	StateDisabled   State = "disabled"   // configured but switched off
)

// Health is what the supervisor knows of one terminal.
type Health struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	State       State     `json:"state"`
	Since       time.Time `json:"since"`                  // when State began
	LastError   string    `json:"last_error,omitempty"`   // the latest failure
	LastErrorAt time.Time `json:"last_error_at,omitzero"` // when it happened
	LastContact time.Time `json:"last_contact,omitzero"`  // the latest successful exchange
	Failures    int       `json:"failures"`               // failed attempts since the last time online
	RetryAt     time.Time `json:"retry_at,omitzero"`      // next attempt, while offline or in error
	Info        Info      `json:"info"`
}
