package zk

import (
	"bytes"
	"errors"
	"testing"
)

func TestChecksumGolden(t *testing.T) {
	tests := []struct {
		name string
		want uint16
	}{
		{"checksum-zkfaceversion", 0x175A},
		{"checksum-odd-length", 0x6A29},
		{"checksum-connect", 0xFC17},
		{"checksum-ack-session", 0xFCFF},
		{"checksum-event-fpftr", 0xFCA7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := vector(t, tt.name)
			p, err := ParsePacket(b)
			if err != nil {
				t.Fatalf("ParsePacket: %v", err)
			}
			if p.Checksum != tt.want {
				t.Fatalf("checksum field = %#04x, want %#04x", p.Checksum, tt.want)
			}
			// Re-encoding computes the same checksum and the same bytes.
			if got := p.Append(nil); !bytes.Equal(got, b) {
				t.Errorf("Append = % x\nwant     % x", got, b)
			}
			// The RFC 1071 property: a packet with its checksum sums to zero.
			if c := Checksum(b); c != 0 && c != 0xFFFF {
				t.Errorf("Checksum over the whole packet = %#04x, want 0", c)
			}
		})
	}
}

func TestParsePacketErrors(t *testing.T) {
	good := vector(t, "checksum-zkfaceversion")
	bad := bytes.Clone(good)
	bad[len(bad)-2] ^= 0x01
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrShortPacket},
		{"seven bytes", good[:7], ErrShortPacket},
		{"flipped data bit", bad, ErrChecksum},
		{"truncated data", good[:len(good)-2], ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParsePacket(tt.in); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPacketRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1023, 1024, 65528} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(i*7 + 3)
		}
		p := Packet{Command: CmdData, Session: 0xFB2F, Reply: 65534, Data: data}
		got, err := ParsePacket(p.Append(nil))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if got.Command != p.Command || got.Session != p.Session || got.Reply != p.Reply || !bytes.Equal(got.Data, data) {
			t.Fatalf("%d bytes: round trip changed the packet", n)
		}
	}
}

func TestReplyError(t *testing.T) {
	if err := CheckReply(CmdConnect, CmdAckOK); err != nil {
		t.Fatal(err)
	}
	err := CheckReply(CmdAuth, CmdAckUnauth)
	var r ReplyError
	if !errors.As(err, &r) || r.Code != CmdAckUnauth || r.To != CmdAuth {
		t.Fatalf("err = %#v", err)
	}
	if err.Error() != "terminal refused the comm key (ACK_UNAUTH): wrong comm key" {
		t.Errorf("message = %q", err)
	}
	if got := CheckReply(CmdOptionsRRQ, CmdAckError).Error(); got != "terminal replied ACK_ERROR to OPTIONS_RRQ" {
		t.Errorf("message = %q", got)
	}
	if Command(4242).String() != "CMD_4242" {
		t.Error("unknown command name")
	}
}
