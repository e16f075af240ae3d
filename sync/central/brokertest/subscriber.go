package brokertest

import (
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
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

// Subscribe connects a subscriber to url for filter (QoS 1) and
// disconnects it when the test ends.
func Subscribe(tb testing.TB, url, filter string) *Subscriber {
	tb.Helper()
	s := &Subscriber{wake: make(chan struct{}, 1)}
	handler := func(_ mqtt.Client, m mqtt.Message) {
		s.mu.Lock()
		s.msgs = append(s.msgs, Message{Topic: m.Topic(), Payload: append([]byte(nil), m.Payload()...), Retained: m.Retained(), At: time.Now()})
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
	o := mqtt.NewClientOptions().AddBroker(url).SetClientID("central-" + strings.ReplaceAll(tb.Name(), "/", "-")).
		SetCleanSession(true).SetAutoReconnect(true).SetMaxReconnectInterval(200 * time.Millisecond).SetConnectRetry(true).
		SetConnectRetryInterval(100 * time.Millisecond).SetOrderMatters(true).
		SetOnConnectHandler(func(c mqtt.Client) {
			c.Subscribe(filter, 1, handler)
		})
	s.client = mqtt.NewClient(o)
	tok := s.client.Connect()
	if !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		tb.Fatalf("subscriber: connect %s: %v", url, tok.Error())
	}
	// The subscription is made in the connect handler; wait for it.
	deadline := time.Now().Add(5 * time.Second)
	for !s.client.IsConnectionOpen() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
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

// Wait polls until cond holds over the messages, failing the test after
// the timeout.
func (s *Subscriber) Wait(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
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
