package zk

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// User record sizes.
const (
	UserSize28 = 28 // old firmware: numeric PIN, 8-byte name
	UserSize72 = 72 // TFT/ZK8: 24-byte PIN and name
)

// Privilege bits of a user record.
const (
	PrivDisabled = 0x01 // bit 0: the user may not punch
	PrivRoleMask = 0x0E // bits 1-3: 0 user, 2 enroller, 6 manager, 14 admin
)

// User is one user record of a terminal.
type User struct {
	UID       uint16 // the terminal's internal index, 1-based
	Privilege uint8  // role bits and the disabled bit
	Password  string
	Name      string
	Card      uint32
	Group     uint8
	Timezone  int16  // 28-byte form only
	UserID    string // the PIN
}

// AppendUser appends u in the given size. In the 72-byte form the group goes
// in byte 39 and the time-zone area after it is left zero (use the group's).
func AppendUser(dst []byte, u User, size int) ([]byte, error) {
	switch size {
	case UserSize28:
		pin, err := strconv.ParseUint(u.UserID, 10, 32)
		if err != nil {
			return dst, fmt.Errorf("zk: 28-byte users need a numeric PIN, not %q", u.UserID)
		}
		if len(u.Password) > 5 || len(u.Name) > 8 {
			return dst, fmt.Errorf("zk: 28-byte users allow a 5-byte password and an 8-byte name")
		}
		dst = binary.LittleEndian.AppendUint16(dst, u.UID)
		dst = append(dst, u.Privilege)
		dst = appendPadded(dst, u.Password, 5)
		dst = appendPadded(dst, u.Name, 8)
		dst = binary.LittleEndian.AppendUint32(dst, u.Card)
		dst = append(dst, 0, u.Group)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(u.Timezone))
		return binary.LittleEndian.AppendUint32(dst, uint32(pin)), nil
	case UserSize72:
		if len(u.Password) > 8 || len(u.Name) > 24 || len(u.UserID) > maxUserID {
			return dst, fmt.Errorf("zk: 72-byte users allow an 8-byte password, a 24-byte name and a 24-byte PIN")
		}
		dst = binary.LittleEndian.AppendUint16(dst, u.UID)
		dst = append(dst, u.Privilege)
		dst = appendPadded(dst, u.Password, 8)
		dst = appendPadded(dst, u.Name, 24)
		dst = binary.LittleEndian.AppendUint32(dst, u.Card)
		dst = append(dst, u.Group)
		dst = append(dst, make([]byte, 8)...)
		return appendPadded(dst, u.UserID, maxUserID), nil
	}
	return dst, fmt.Errorf("%w: user size %d", ErrRecordSize, size)
}

// AppendUserSet appends a user dataset: the u32 byte length, then the users.
func AppendUserSet(dst []byte, users []User, size int) ([]byte, error) {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(users)*size))
	for _, u := range users {
		var err error
		if dst, err = AppendUser(dst, u, size); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// UserSet is a decoded user dataset.
type UserSet struct {
	Size     int    // UserSize28 or UserSize72; 0 for an empty set
	Users    []User // the users, in the terminal's order
	Skipped  int    // records left out: they cannot be users (unknown privilege bits, an unprintable PIN)
	Trailing int    // bytes of a partial record at the end, left out
	// MaxUID is the highest UID of any whole record, those left out
	// included, so that a new user can take a UID no record holds.
	MaxUID uint16
}

// ParseUserSet decodes a user dataset. The record size is decided as for
// attendance (see DecideAttendanceSize), from the records' content and
// count, the user count the terminal reported (0 when unknown); records
// that cannot be users are left out and counted, as is a partial record at
// the end. Names and passwords are cleaned as Text does.
func ParseUserSet(set []byte, count int) (UserSet, error) {
	recs, err := setBody(set)
	if err != nil {
		return UserSet{}, err
	}
	if len(recs) == 0 {
		return UserSet{}, nil
	}
	size, err := decideForm(recs, count, []int{UserSize72, UserSize28}, checkUser, "users")
	if err != nil {
		return UserSet{}, err
	}
	us := UserSet{Size: size, Users: make([]User, 0, len(recs)/size), Trailing: len(recs) % size}
	for i := 0; i+size <= len(recs); i += size {
		us.MaxUID = max(us.MaxUID, binary.LittleEndian.Uint16(recs[i:]))
		if checkUser(recs[i:i+size], size) != nil {
			us.Skipped++
			continue
		}
		us.Users = append(us.Users, decodeUser(recs[i:i+size], size))
	}
	return us, nil
}

// checkUser returns nil when r can be a user record of the given size.
func checkUser(r []byte, size int) error {
	if r[0] == 0 && r[1] == 0 {
		return fmt.Errorf("%w: uid 0 (uids start at 1)", ErrImplausible)
	}
	if r[2]&^(PrivDisabled|PrivRoleMask) != 0 {
		return fmt.Errorf("%w: privilege bits 0x%02x", ErrImplausible, r[2])
	}
	if size == UserSize72 {
		if r[48] == 0 || !plausiblePIN(r[48:72]) {
			return fmt.Errorf("%w: PIN % x is not printable ASCII", ErrImplausible, trimNUL(r[48:72]))
		}
		return nil
	}
	if r[20] != 0 {
		return fmt.Errorf("%w: reserved byte 0x%02x", ErrImplausible, r[20])
	}
	return nil
}

func decodeUser(r []byte, size int) User {
	u := User{UID: binary.LittleEndian.Uint16(r), Privilege: r[2]}
	if size == UserSize28 {
		u.Password = text(r[3:8])
		u.Name = text(r[8:16])
		u.Card = binary.LittleEndian.Uint32(r[16:])
		u.Group = r[21]
		u.Timezone = int16(binary.LittleEndian.Uint16(r[22:]))
		u.UserID = strconv.FormatUint(uint64(binary.LittleEndian.Uint32(r[24:])), 10)
		return u
	}
	u.Password = text(r[3:11])
	u.Name = text(r[11:35])
	u.Card = binary.LittleEndian.Uint32(r[35:])
	u.Group = r[39]
	if u.Group == 0 {
		// Some firmware (and pyzk) keep the group as a short decimal
		// string at 40.
		if g, err := strconv.ParseUint(CString(r[40:47]), 10, 8); err == nil {
			u.Group = uint8(g)
		}
	}
	u.UserID = text(r[48:72])
	return u
}

// text decodes a NUL-padded field of a user record, as Text does.
func text(b []byte) string { return Text(b, len(b)) }
