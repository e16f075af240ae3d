package brokertest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/punchbox/punchbox/internal/eventually"
)

// Message is one message a Subscriber received.
type Message struct {
	Topic    string
	Payload  []byte
	Retained bool
	At       time.Time
}

// Subscriber is a central-side client recording everything under a topic
// filter. It reconnects on its own (persistent session, QoS 1), so that it
// misses nothing across a broker restart... except what the broker lost.
type Subscriber struct {
	client mqtt.Client
	mu     sync.Mutex
	msgs   []Message
	wake   chan struct{}
}

// clients numbers the subscribers, so that two in one test have client ids
// of their own (a broker drops the older of two connections with one id).
var clients atomic.Int64

// Subscribe connects a subscriber to url for filter (QoS 1) and
// disconnects it when the test ends.
func Subscribe(tb testing.TB, url, filter string) *Subscriber {
	tb.Helper()
	s := &Subscriber{wake: make(chan struct{}, 1)}
	subscribed := make(chan error, 1)
	handler := func(_ mqtt.Client, m mqtt.Message) {
		s.mu.Lock()
		s.msgs = append(s.msgs, Message{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), Retained: m.Retained(), At: time.Now()})
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID(fmt.Sprintf("central-%s-%d", strings.ReplaceAll(tb.Name(), "/", "-"), clients.Add(1))).
		SetCleanSession(true).SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).SetConnectRetry(true).
		SetConnectRetryInterval(100 * time.Millisecond).SetOrderMatters(true).
		SetOnConnectHandler(func(c mqtt.Client) {
			tok := c.Subscribe(filter, 1, handler)
			go func() {
				tok.Wait()
				select {
				case subscribed <- tok.Error():
				default: // a reconnect's: nobody waits for it
				}
			}()
		})
	s.client = mqtt.NewClient(o)
	tok := s.client.Connect()
	if !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		tb.Fatalf("subscriber: connect %s: %v", url, tok.Error())
	}
	// The subscription is made in the connect handler: wait for the
	// broker's SUBACK.
	if err := eventually.Recv(tb, "the subscription to "+filter, subscribed); err != nil {
		tb.Fatalf("subscriber: subscribe %s: %v", filter, err)
	}
	tb.Cleanup(func() { s.client.Disconnect(100) })
	return s
}

// Publish publishes from the central side (commands, acks) and waits.
func (s *Subscriber) Publish(tb testing.TB, topic string, retained bool, payload []byte) {
	tb.Helper()
	tok := s.client.Publish(topic, 1, retained, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// Messages returns what arrived so far on topics ending in suffix ("" for
// all).
func (s *Subscriber) Messages(suffix string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.msgs {
		if strings.HasSuffix(m.Topic, suffix) {
			out = append(out, m)
		}
	}
	return out
}

// Wait waits until cond holds over the messages, checking it at every
// message that arrives, failing the test after the timeout (at least
// eventually.Hung: the bound only stops a hung test).
func (s *Subscriber) Wait(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(max(timeout, eventually.Hung))
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		select {
		case <-s.wake:
		case <-time.After(20 * time.Millisecond):
		}
	}
}
