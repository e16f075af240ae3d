package eventually

import (
	"sync/atomic"
	"testing"
	"time"
)

// fakeTB records a failure instead of ending the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = format
	panic(f)
}

func run(tb *fakeTB, fn func()) (failed bool) {
	defer func() {
		if r := recover(); r != nil {
			if r != tb {
				panic(r)
			}
			failed = true
		}
	}()
	fn()
	return false
}

func TestTrue(t *testing.T) {
	saved := Hung
	t.Cleanup(func() { Hung = saved })
	Hung = 200 * time.Millisecond
	t.Run("BecomesTrue", func(t *testing.T) {
		var n atomic.Int32
		tb := &fakeTB{TB: t}
		if run(tb, func() { True(tb, "n reaches 3", func() bool { return n.Add(1) >= 3 }) }) {
			t.Fatal("failed although the condition became true")
		}
	})
	t.Run("NeverTrue", func(t *testing.T) {
		tb := &fakeTB{TB: t}
		if !run(tb, func() { True(tb, "never", func() bool { return false }) }) {
			t.Fatal("did not fail")
		}
	})
	t.Run("RecvClosed", func(t *testing.T) {
		tb := &fakeTB{TB: t}
		ch := make(chan int)
		close(ch)
		if !run(tb, func() { Recv(tb, "value", ch) }) {
			t.Fatal("did not fail on a closed channel")
		}
	})
	t.Run("RecvValue", func(t *testing.T) {
		tb := &fakeTB{TB: t}
		ch := make(chan int, 1)
		ch <- 7
		if v := Recv(tb, "value", ch); v != 7 {
			t.Fatalf("got %d", v)
		}
	})
}
