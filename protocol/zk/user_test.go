package zk

import (
	"errors"
	"testing"
)

func TestUsers72Golden(t *testing.T) {
	p := tcpPacket(t, "tcp-users72")
	us, err := ParseUserSet(p.Data, 7)
	if err != nil || us.Size != UserSize72 || us.Skipped != 0 {
		t.Fatalf("ParseUserSet = %+v, %v", us, err)
	}
	users := us.Users
	pins := []string{"808", "821", "835", "831", "832", "86", "842"}
	uids := []uint16{1, 2, 3, 4, 5, 6, 12}
	if len(users) != len(pins) {
		t.Fatalf("%d users", len(users))
	}
	for i, u := range users {
		if u.UserID != pins[i] || u.UID != uids[i] {
			t.Errorf("user %d = %+v, want uid %d pin %s", i, u, uids[i], pins[i])
		}
	}
	if users[0].Privilege != 14 || users[1].Privilege != 0 {
		t.Errorf("privileges %d %d, want admin (14) then user (0)", users[0].Privilege, users[1].Privilege)
	}
}

func TestUserRoundTrip(t *testing.T) {
	users := []User{
		{UID: 1, Privilege: 14, Password: "1234", Name: "Ada", Card: 4242, Group: 1, UserID: "1001"},
		{UID: 2, Privilege: 0 | PrivDisabled, Name: "Grace", Group: 2, UserID: "1002"},
		{UID: 3, Privilege: 2, Name: "Ünï", Card: 0xFFFFFFFF, Group: 1, UserID: "7"},
	}
	for _, size := range []int{UserSize28, UserSize72} {
		t.Run(itoa(size)+" bytes", func(t *testing.T) {
			in := users
			if size == UserSize28 {
				in = users[:2] // 8-byte names
			}
			set, err := AppendUserSet(nil, in, size)
			if err != nil {
				t.Fatal(err)
			}
			us, err := ParseUserSet(set, 0)
			if err != nil || us.Size != size {
				t.Fatalf("ParseUserSet = %+v, %v", us, err)
			}
			got := us.Users
			for i := range in {
				if got[i] != in[i] {
					t.Errorf("user %d = %+v\nwant %+v", i, got[i], in[i])
				}
			}
		})
	}
}

func TestUserErrors(t *testing.T) {
	if _, err := AppendUser(nil, User{UserID: "A1"}, UserSize28); err == nil {
		t.Error("non-numeric PIN in a 28-byte user accepted")
	}
	if _, err := AppendUser(nil, User{UserID: "1", Name: "a name far longer than twenty-four bytes"}, UserSize72); err == nil {
		t.Error("long name accepted")
	}
	if _, err := ParseUserSet(append([]byte{72, 0, 0, 0}, make([]byte, 71)...), 0); !errors.Is(err, ErrTruncated) {
		t.Errorf("short set: %v", err)
	}
	bad := append([]byte{72, 0, 0, 0}, make([]byte, 72)...)
	bad[4+2] = 0xF0 // privilege bits that do not exist
	if _, err := ParseUserSet(bad, 0); !errors.Is(err, ErrRecordSize) {
		t.Errorf("implausible user: %v", err)
	}
}

// A user with a PIN of control characters, or a partial record at the
// end, is left out and counted; the other users are read, with their
// names cleaned of control characters.
func TestParseUserSet_BadUsers(t *testing.T) {
	var in []User
	for i := 1; i <= 30; i++ {
		in = append(in, User{UID: uint16(i), Name: "User " + itoa(i), UserID: itoa(1000 + i), Group: 1})
	}
	set, err := AppendUserSet(nil, in, UserSize72)
	if err != nil {
		t.Fatal(err)
	}
	body := set[4:]
	copy(body[4*UserSize72+48:], "12\x1b\x07\x00")          // user 5: a PIN with ESC and BEL
	copy(body[9*UserSize72+11:], "Eve\x1b[31m\x07\xff\x00") // user 10: a name with ESC, BEL and a stray byte
	body = append(body, 1, 2, 3, 4, 5)                      // a partial record
	us, err := ParseUserSet(withPrefix(body), 30)
	if err != nil {
		t.Fatal(err)
	}
	if us.Size != UserSize72 || len(us.Users) != 29 || us.Skipped != 1 || us.Trailing != 5 {
		t.Fatalf("size %d, %d users, %d skipped, %d trailing", us.Size, len(us.Users), us.Skipped, us.Trailing)
	}
	for _, u := range us.Users {
		if u.UID == 5 {
			t.Error("the user with a control-character PIN was kept")
		}
		if u.UID == 10 && u.Name != "Eve[31m" {
			t.Errorf("name %q, want %q", u.Name, "Eve[31m")
		}
	}
}
