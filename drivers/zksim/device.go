package zksim

import (
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// device is the terminal's state: users, the attendance log, the clock,
// options and the disabled flag. Its lock is a leaf: nothing else is locked
// while it is held.
type device struct {
	recordSize, userSize int
	recordCap, userCap   int
	loc                  *time.Location
	now                  func() time.Time

	mu       sync.Mutex
	users    []zk.User
	records  []zk.Attendance
	offset   time.Duration
	disabled bool
	options  map[string]string // written by OPTIONS_WRQ
	attSet   encoded           // cached attendance dataset
	userSet  encoded           // cached user dataset
}

// encoded caches a dataset in the wire form; it is valid while ok and is
// never modified once built, so sessions share it.
type encoded struct {
	ok  bool
	set []byte
}

func newDevice(cfg Config) *device {
	return &device{
		recordSize: cfg.RecordSize, userSize: cfg.UserSize,
		recordCap: cfg.RecordCap, userCap: cfg.UserCap,
		loc: cfg.Location, now: cfg.Now,
		offset:  cfg.ClockOffset,
		options: make(map[string]string),
	}
}

// SetUsers replaces the users.
func (s *Sim) SetUsers(users []zk.User) {
	d := s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users = slices.Clone(users)
	d.userSet.ok = false
}

// Users returns a copy of the users.
func (s *Sim) Users() []zk.User {
	d := s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.users)
}

// AddRecords appends records to the attendance log. It queues no events.
func (s *Sim) AddRecords(recs ...zk.Attendance) {
	d := s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	d.records = append(d.records, recs...)
	d.attSet.ok = false
}

// Records returns a copy of the attendance log.
func (s *Sim) Records() []zk.Attendance {
	d := s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.records)
}

// Clock is the device clock now, in the configured location.
func (s *Sim) Clock() time.Time {
	d := s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.clock()
}

func (d *device) clock() time.Time { return d.now().Add(d.offset).In(d.loc) }

// setClock sets the offset so that the device clock reads t now.
func (d *device) setClock(t zk.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	want := time.Date(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, 0, d.loc)
	d.offset = want.Sub(d.now())
}

// Disabled reports whether the device is disabled (users cannot punch).
func (s *Sim) Disabled() bool {
	d := s.dev
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.disabled
}

// setDisabled sets the flag and reports whether it changed.
func (d *device) setDisabled(v bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	changed := d.disabled != v
	d.disabled = v
	return changed
}

// errUnknownPIN is returned by punch for a PIN no user has.
var errUnknownPIN = errors.New("unknown pin")

// errDisabled is returned by punch while the device is disabled.
var errDisabled = errors.New("device disabled")

// punch appends a record for the user with pin at the device clock.
func (d *device) punch(pin string, state, verify uint8) (zk.Attendance, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.disabled {
		return zk.Attendance{}, errDisabled
	}
	i := slices.IndexFunc(d.users, func(u zk.User) bool { return u.UserID == pin })
	if i < 0 {
		return zk.Attendance{}, fmt.Errorf("%w %q", errUnknownPIN, pin)
	}
	a := zk.Attendance{UID: d.users[i].UID, UserID: pin, Verify: verify, State: state, Time: wall(d.clock())}
	if _, err := zk.EncodeTime(a.Time); err != nil {
		return zk.Attendance{}, err
	}
	d.records = append(d.records, a)
	d.attSet.ok = false
	return a, nil
}

// upsertUser adds u or replaces the user with its UID, as USER_WRQ does.
// Like the firmware it refuses an empty PIN or "0", a PIN another user holds,
// and a new user past the capacity.
func (d *device) upsertUser(u zk.User) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u.UserID == "" || u.UserID == "0" {
		return errors.New("empty pin")
	}
	at := -1
	for i, o := range d.users {
		switch {
		case o.UID == u.UID:
			at = i
		case o.UserID == u.UserID:
			return fmt.Errorf("pin %q belongs to uid %d", u.UserID, o.UID)
		}
	}
	if at < 0 {
		if len(d.users) >= d.userCap {
			return errors.New("user capacity reached")
		}
		d.users = append(d.users, u)
	} else {
		d.users[at] = u
	}
	d.userSet.ok = false
	return nil
}

// deleteUser removes the user with uid and reports whether there was one.
func (d *device) deleteUser(uid uint16) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.users)
	d.users = slices.DeleteFunc(d.users, func(u zk.User) bool { return u.UID == uid })
	d.userSet.ok = false
	return len(d.users) != n
}

// clear empties the attendance log and, with users, the users.
func (d *device) clear(attendance, users bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if attendance {
		d.records = nil
		d.attSet.ok = false
	}
	if users {
		d.users = nil
		d.userSet.ok = false
	}
}

// sizes is the free-sizes reply for the current data.
func (d *device) sizes() zk.Sizes {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := zk.Sizes{
		Users: len(d.users), Records: len(d.records),
		FingerCap: 3000, UserCap: d.userCap, RecordCap: d.recordCap,
		FingerFree: 3000, UserFree: max(0, d.userCap-len(d.users)), RecordFree: max(0, d.recordCap-len(d.records)),
	}
	for _, u := range d.users {
		if u.Privilege&zk.PrivRoleMask != 0 {
			s.Admins++
		}
		if u.Password != "" {
			s.Passwords++
		}
	}
	return s
}

// attendanceSet returns the attendance dataset in the configured record
// size: u32 length and records. Records the form cannot carry (a PIN too
// long, or not numeric for the 16-byte form) are left out; skipped counts
// them when the dataset was built for this call (fresh), else it is 0.
func (d *device) attendanceSet() (set []byte, skipped int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.attSet.ok {
		set := make([]byte, 4, 4+len(d.records)*d.recordSize)
		for _, a := range d.records {
			b, err := zk.AppendAttendance(set, a, d.recordSize)
			if err != nil {
				skipped++
				continue
			}
			set = b
		}
		putLen(set)
		d.attSet = encoded{ok: true, set: set}
	}
	return d.attSet.set, skipped
}

// userSetBytes returns the user dataset in the configured user size. In the
// 28-byte form names and passwords are cut to fit; users with a PIN the form
// cannot carry are left out, and counted in skipped as for attendanceSet.
func (d *device) userSetBytes() (set []byte, skipped int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.userSet.ok {
		set := make([]byte, 4, 4+len(d.users)*d.userSize)
		for _, u := range d.users {
			b, err := zk.AppendUser(set, fitUser(u, d.userSize), d.userSize)
			if err != nil {
				skipped++
				continue
			}
			set = b
		}
		putLen(set)
		d.userSet = encoded{ok: true, set: set}
	}
	return d.userSet.set, skipped
}

// fitUser cuts the name and password of u to what the user size holds.
func fitUser(u zk.User, size int) zk.User {
	name, pass := 24, 8
	if size == zk.UserSize28 {
		name, pass = 8, 5
	}
	if len(u.Name) > name {
		u.Name = u.Name[:name]
	}
	if len(u.Password) > pass {
		u.Password = u.Password[:pass]
	}
	return u
}

// putLen writes the u32 length of the records after the first 4 bytes.
func putLen(set []byte) {
	n := uint32(len(set) - 4)
	set[0], set[1], set[2], set[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
}

// hash is the "hash" of a DataStat reply; clients cannot check it.
func hash(b []byte) uint32 { return crc32.ChecksumIEEE(b) }

// option returns the value of a written option.
func (d *device) option(name string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.options[name]
	return v, ok
}

func (d *device) setOption(name, value string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.options[name] = value
}

// maxPINLen is the length of the longest PIN.
func (d *device) maxPINLen() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, u := range d.users {
		n = max(n, len(u.UserID))
	}
	return n
}

// wall is the wall-clock reading of t in its location.
func wall(t time.Time) zk.Time {
	return zk.Time{Year: t.Year(), Month: t.Month(), Day: t.Day(), Hour: t.Hour(), Minute: t.Minute(), Second: t.Second()}
}
