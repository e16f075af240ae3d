package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestDemo runs "punchbox demo" as a new user would, and watches its
// progress lines until the 40,000-punch backlog has been read, stored and
// delivered through the embedded broker, with all three terminals online.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo reads 40,000 punches from a firmware-paced terminal")
	}
	var out syncBuffer
	var errOut syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--listen", freePort(t), "--data-dir", t.TempDir(), "--progress", "200ms", "--rate", "20"}, &out, &errOut, noEnv)
	}()
	line := regexp.MustCompile(`captured (\d+)  stored (\d+)  delivered (\d+)  backlog (\d+)  terminals online (\d)/3  broker (connected|not connected)`)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ok := false
		for _, m := range line.FindAllStringSubmatch(out.String(), -1) {
			n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
			if n(2) >= 40_000 && n(3) >= 40_000 && n(5) == 3 && m[6] == "connected" && n(1) > 40_000 {
				ok = true
			}
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo never stored and delivered the backlog:\n%s\n%s", tail(out.String()), errOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, want := range []string{"panel        http://", "mosquitto_sub -h 127.0.0.1 -p", "canteen", "comm key 4321"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the banner lacks %q", want)
		}
	}
	// The banner's sign-in works: no default password, but a printed one.
	m := regexp.MustCompile(`panel        (\S+)  \(sign in as (\S+), password (\S+)\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no sign-in in the banner:\n%s", out.String())
	}
	body, _ := json.Marshal(map[string]string{"name": m[2], "password": m[3]})
	resp, err := http.Post(m[1]+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("sign-in with the banner's password: %d", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("demo exit %d: %s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop")
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
