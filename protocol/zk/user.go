package zk

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
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

// ParseUserSet decodes a user dataset, inferring the record size from its
// length and content and cross-checking countHint (0 when unknown).
func ParseUserSet(set []byte, countHint int) ([]User, int, error) {
	recs, err := setBody(set)
	if err != nil {
		return nil, 0, err
	}
	if len(recs) == 0 {
		return nil, 0, nil
	}
	var plausible []int
	for _, size := range []int{UserSize72, UserSize28} {
		if len(recs)%size == 0 && samplePlausible(recs, size, plausibleUser) {
			plausible = append(plausible, size)
		}
	}
	if len(plausible) == 0 {
		return nil, 0, fmt.Errorf("%w: %d bytes of users fit no known record form", ErrRecordSize, len(recs))
	}
	size := plausible[0]
	for _, s := range plausible {
		if countHint > 0 && len(recs)/s == countHint {
			size = s
			break
		}
	}
	users := make([]User, 0, len(recs)/size)
	for i := 0; i < len(recs); i += size {
		users = append(users, decodeUser(recs[i:i+size], size))
	}
	return users, size, nil
}

func plausibleUser(r []byte, size int) bool {
	if size == UserSize72 {
		return r[2]&^(PrivDisabled|PrivRoleMask) == 0 && plausiblePIN(r[48:72])
	}
	return r[2]&^(PrivDisabled|PrivRoleMask) == 0 && r[20] == 0
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

// text decodes a NUL-padded field as UTF-8, replacing invalid bytes.
func text(b []byte) string {
	return strings.TrimSpace(strings.ToValidUTF8(CString(b), "\uFFFD"))
}
