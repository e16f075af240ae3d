package zksim

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/punchbox/punchbox/protocol/zk"
)

// GenerateUsers returns n users: UID i (from 1), PIN strconv(1000+i), name
// "User i", privilege 0, except UID 1, an admin (14). Every third user has
// a card number (500000+i); the others none.
func GenerateUsers(n int) []zk.User {
	users := make([]zk.User, 0, max(n, 0))
	for i := 1; i <= n; i++ {
		u := zk.User{UID: uint16(i), UserID: strconv.Itoa(1000 + i), Name: "User " + strconv.Itoa(i)}
		if i == 1 {
			u.Privilege = 14
		}
		if i%3 == 0 {
			u.Card = uint32(500000 + i)
		}
		users = append(users, u)
	}
	return users
}

// verifyModes are the verify types generated records use: password,
// fingerprint, card, face.
var verifyModes = [...]uint8{0, 1, 2, 15}

// GenerateRecords returns n attendance records of random users, the same
// for the same arguments. Their times increase strictly from start's wall
// clock, by 1 to 119 seconds each, counted on the wall clock (no daylight
// saving jumps); states are 0-5, verify types 0, 1, 2 or 15, work codes 0.
// With no users the records belong to UID 1, PIN "1001".
func GenerateRecords(users []zk.User, n int, start time.Time, seed int64) []zk.Attendance {
	if len(users) == 0 {
		users = GenerateUsers(1)
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x7a6b73696d)) // "zksim"
	t := time.Date(start.Year(), start.Month(), start.Day(), start.Hour(), start.Minute(), start.Second(), 0, time.UTC)
	recs := make([]zk.Attendance, 0, max(n, 0))
	for i := 0; i < n; i++ {
		u := users[r.IntN(len(users))]
		recs = append(recs, zk.Attendance{
			UID: u.UID, UserID: u.UserID,
			Verify: verifyModes[r.IntN(len(verifyModes))],
			State:  uint8(r.IntN(6)),
			Time:   wall(t),
		})
		t = t.Add(time.Duration(1+r.IntN(119)) * time.Second)
	}
	return recs
}

// Punch makes the user with pin punch now: it appends a record at the
// device clock (UID from the users) and queues a realtime event to every
// subscribed session. It returns false, and does nothing, while the device
// is disabled, for a PIN no user has, or when the clock is outside the
// terminal's 2000-2136 range.
func (s *Sim) Punch(pin string, state, verify uint8) (zk.Attendance, bool) {
	a, err := s.dev.punch(pin, state, verify)
	if err != nil {
		if !errors.Is(err, errDisabled) {
			s.log.Debug("punch refused", "pin", pin, "err", err)
		}
		return zk.Attendance{}, false
	}
	s.broadcast(a)
	return a, true
}

// RunPunches makes random users punch at perSecond punches a second (none
// when perSecond <= 0), skipping while the device is disabled, until ctx
// ends; then it returns nil. The choice of users, states and verify types
// follows seed.
func (s *Sim) RunPunches(ctx context.Context, perSecond float64, seed int64) error {
	if perSecond <= 0 {
		<-ctx.Done()
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x70756e6368)) // "punch"
	every := max(time.Duration(float64(time.Second)/perSecond), time.Microsecond)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		users := s.Users()
		if len(users) == 0 {
			continue
		}
		u := users[r.IntN(len(users))]
		s.Punch(u.UserID, uint8(r.IntN(6)), verifyModes[r.IntN(len(verifyModes))])
	}
}
