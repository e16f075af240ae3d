package zk

import (
	"errors"
	"testing"
)

func TestUsers72Golden(t *testing.T) {
	p := tcpPacket(t, "tcp-users72")
	users, size, err := ParseUserSet(p.Data, 7)
	if err != nil || size != UserSize72 {
		t.Fatalf("ParseUserSet = %d, %v", size, err)
	}
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
			got, gotSize, err := ParseUserSet(set, 0)
			if err != nil || gotSize != size {
				t.Fatalf("ParseUserSet = %d, %v", gotSize, err)
			}
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
	if _, _, err := ParseUserSet(append([]byte{72, 0, 0, 0}, make([]byte, 71)...), 0); !errors.Is(err, ErrTruncated) {
		t.Errorf("short set: %v", err)
	}
	bad := append([]byte{72, 0, 0, 0}, make([]byte, 72)...)
	bad[4+2] = 0xF0 // privilege bits that do not exist
	if _, _, err := ParseUserSet(bad, 0); !errors.Is(err, ErrRecordSize) {
		t.Errorf("implausible user: %v", err)
	}
}
