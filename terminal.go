package punchbox

import "strconv"

// TerminalKind names a family of terminals and the driver that talks to it.
type TerminalKind string

// Terminal kinds, as written in configuration and the API.
const (
	KindZK     TerminalKind = "zk"      // ZK binary protocol over TCP or UDP, the box dials
	KindZKPush TerminalKind = "zk-push" // ZK push (ADMS) over HTTP, the terminal calls the box
	KindSerial TerminalKind = "serial"  // serial line, RS232 or RS485
)

// Kinds lists every terminal kind punchbox knows, in display order.
var Kinds = []TerminalKind{KindZK, KindZKPush, KindSerial}

// Valid reports whether k is a known kind.
func (k TerminalKind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Terminal is the box's configuration of one terminal.
type Terminal struct {
	ID      string         // the box's name for it, a Name such as "gate-a"
	Name    string         // a human label, e.g. "Main gate"; may be empty
	Kind    TerminalKind   // which driver talks to it
	Address string         // host:port, serial device or push serial number, by kind
	Zone    string         // IANA zone of its clock; empty means the site's zone
	Options map[string]any // kind-specific settings, decoded by the driver
	Enabled bool           // a disabled terminal is kept but not run
}

// Employee is a person who punches, as the box knows them. The PIN is the
// user id on every terminal of the site.
type Employee struct {
	PIN       string
	Name      string
	Card      string // card number; "" when none
	Privilege Privilege
	Disabled  bool
}

// Privilege is a terminal role. The codes are the ZK privilege values (bits
// 1-3 of the privilege byte).
type Privilege uint8

// Privileges.
const (
	PrivilegeUser     Privilege = 0
	PrivilegeEnroller Privilege = 2
	PrivilegeManager  Privilege = 6
	PrivilegeAdmin    Privilege = 14
)

var privilegeNames = map[Privilege]string{
	PrivilegeUser:     "user",
	PrivilegeEnroller: "enroller",
	PrivilegeManager:  "manager",
	PrivilegeAdmin:    "admin",
}

// String returns the privilege name, or "privilege-N" for an unknown code.
func (p Privilege) String() string {
	if n, ok := privilegeNames[p]; ok {
		return n
	}
	return "privilege-" + strconv.Itoa(int(p))
}

// Valid reports whether p is one of the four roles.
func (p Privilege) Valid() bool { _, ok := privilegeNames[p]; return ok }

// ParsePrivilege accepts a role name: user, enroller, manager or admin.
func ParsePrivilege(s string) (Privilege, bool) {
	for p, n := range privilegeNames {
		if n == s {
			return p, true
		}
	}
	return 0, false
}

// MaxNameLen is the longest Name accepted.
const MaxNameLen = 63

// ValidName reports whether s is usable as a site, box or terminal id: 1 to
// MaxNameLen characters of a-z, 0-9 and '-', starting and ending with a letter
// or digit. Such names are safe in MQTT topics, file names and URLs.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLen || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
