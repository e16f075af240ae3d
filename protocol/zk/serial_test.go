package zk

import (
	"bytes"
	"errors"
	"testing"
)

func TestSerialRoundTrip(t *testing.T) {
	pkts := []Packet{
		{Command: CmdConnect},
		{Command: CmdAckOK, Session: 0x1234, Reply: 1, Data: []byte("~SerialNumber=ABC\x00")},
		{Command: CmdData, Session: 3, Reply: 2, Data: bytes.Repeat([]byte{0x81, 0x7e}, 512)},
	}
	var b []byte
	for _, p := range pkts {
		b = AppendSerial(b, 7, p)
	}
	var d SerialDecoder
	var got []Packet
	for i := 0; i < len(b); i += 5 {
		d.Feed(b[i:min(i+5, len(b))])
		for {
			p, id, ok, err := d.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if id != 7 {
				t.Fatalf("device id %d", id)
			}
			p.Data = bytes.Clone(p.Data)
			got = append(got, p)
		}
	}
	samePackets(t, got, pkts)
	if d.Skipped != 0 {
		t.Errorf("skipped %d bytes of a clean stream", d.Skipped)
	}
}

func TestSerialResync(t *testing.T) {
	p := Packet{Command: CmdAckOK, Session: 9, Reply: 4, Data: []byte{1, 2, 3}}
	frame := AppendSerial(nil, 1, p)
	corrupt := bytes.Clone(frame)
	corrupt[SerialHeaderLen+HeaderLen] ^= 0x10

	var in []byte
	in = append(in, 0x00, 0xFF, 0x81, 0x7e, 0x13) // line noise, with a false start
	in = append(in, corrupt...)
	in = append(in, frame...)

	var d SerialDecoder
	d.Feed(in)
	var checksumErrs, good int
	for i := 0; i < 1000; i++ {
		got, _, ok, err := d.Next()
		if errors.Is(err, ErrChecksum) {
			checksumErrs++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		if got.Reply != 4 || !bytes.Equal(got.Data, p.Data) {
			t.Fatalf("got %+v", got)
		}
		good++
	}
	if good != 1 || checksumErrs == 0 {
		t.Fatalf("good frames %d, checksum errors %d: want the clean frame found after the corrupt one", good, checksumErrs)
	}
}

// A header announcing more than the decoder's limit is noise: it is
// skipped at once, and the real frame behind it is found without waiting
// for 64 KiB that never come.
func TestSerialMax(t *testing.T) {
	want := Packet{Command: CmdAckOK, Session: 9, Reply: 1}
	b := append([]byte{3, 3, 0x81, 0x7e, 0xFF, 0xFF, 0, 0}, AppendSerial(nil, 3, want)...)
	d := SerialDecoder{Max: 1 << 10}
	d.Feed(b)
	p, id, ok, err := d.Next()
	if err != nil || !ok || id != 3 {
		t.Fatalf("Next = %v, %d, %v", ok, id, err)
	}
	samePackets(t, []Packet{p}, []Packet{want})
	if d.Skipped == 0 {
		t.Error("the false header was not skipped")
	}
}
