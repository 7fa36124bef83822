package hostile

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

const (
	legitRate     = 200                            // submits per second
	legitInterval = time.Second / legitRate        // between two intended sends
	legitMax      = 120 * legitRate                // submits one run can track (two minutes)
	answerBound   = time.Second                    // every legitimate submit must be answered within this
	legitSeq0     = 2                              // the bind is sequence 1
	legitWriteCap = 2 * time.Second                // a write blocked this long fails the client
	legitSource   = "4917000"                      // the demo's sender
	legitDest     = "4915550001"                   // not 999...: no MO echo comes back
	legitText     = "hostile suite legitimate msg" // registered_delivery 0: no receipt either
)

// LegitStats are the legitimate client's figures over one window.
// Latency runs from the submit's intended send time (every 5 ms on a
// fixed schedule) to its submit_sm_resp, so a server that stalls the
// writer is charged for the stall.
type LegitStats struct {
	Sent     int // intended in the window
	Answered int
	Missed   int // never answered (waited answerBound after the last send)
	Late     int // answered after answerBound
	NotOK    int // answered with a status other than ESME_ROK
	P50, P99 time.Duration
	Max      time.Duration
	Err      string // the connection failed: how
}

func (s LegitStats) String() string {
	out := fmt.Sprintf("%d sent, %d answered, %d missed, %d late (>1 s), %d not ESME_ROK; p50 %s, p99 %s, max %s",
		s.Sent, s.Answered, s.Missed, s.Late, s.NotOK, ms(s.P50), ms(s.P99), ms(s.Max))
	if s.Err != "" {
		out += "; connection: " + s.Err
	}
	return out
}

// legit is the legitimate client: demo/demopass bound as a transmitter
// from 127.0.0.1, submitting legitRate per second.
type legit struct {
	c      net.Conn
	wmu    sync.Mutex // writer and reader (answering enquire_link) share c
	start  time.Time
	quit   chan struct{}
	wdone  chan struct{}
	rdone  chan struct{}
	mu     sync.Mutex
	n      int             // submits sent
	due    []time.Time     // intended send time, by submit index
	lat    []time.Duration // 0 = not answered yet
	status []codec.Status
	err    string
}

// startLegit dials, binds and starts submitting.
func startLegit(ctx context.Context, s *server) (*legit, error) {
	c, err := s.dial(ctx, ipLegit)
	if err != nil {
		return nil, err
	}
	st, err := bindOn(c, codec.BindTransmitterID, demoUser, demoPass, 5*time.Second)
	if err == nil && st != codec.StatusOK {
		err = fmt.Errorf("bind refused with %v", st)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("legitimate client: %w", err)
	}
	l := &legit{c: c, start: time.Now(), quit: make(chan struct{}), wdone: make(chan struct{}), rdone: make(chan struct{}),
		due: make([]time.Time, legitMax), lat: make([]time.Duration, legitMax), status: make([]codec.Status, legitMax)}
	go l.write()
	go l.read()
	return l, nil
}

func (l *legit) fail(why string) {
	l.mu.Lock()
	if l.err == "" {
		l.err = why
	}
	l.mu.Unlock()
}

func (l *legit) write() {
	defer close(l.wdone)
	body := smpptest.SubmitBody(legitSource, legitDest, legitText)
	t := time.NewTimer(0)
	defer t.Stop()
	for i := range legitMax {
		due := l.start.Add(time.Duration(i) * legitInterval)
		if d := time.Until(due); d > 0 {
			t.Reset(d)
			select {
			case <-l.quit:
				return
			case <-t.C:
			}
		} else {
			select {
			case <-l.quit:
				return
			default:
			}
		}
		l.mu.Lock()
		l.due[i], l.n = due, i+1
		l.mu.Unlock()
		l.wmu.Lock()
		err := writeAll(l.c, smpptest.Frame(codec.SubmitSMID, 0, uint32(legitSeq0+i), body), legitWriteCap)
		l.wmu.Unlock()
		if err != nil {
			l.fail("write: " + err.Error())
			return
		}
	}
}

func (l *legit) read() {
	defer close(l.rdone)
	br := bufio.NewReaderSize(l.c, 16<<10)
	var buf []byte
	for {
		h, f, err := readFrame(br, buf)
		buf = f
		if err != nil {
			select {
			case <-l.quit: // our own close at the end
			default:
				l.fail("read: " + err.Error())
			}
			return
		}
		now := time.Now()
		switch h.CommandID {
		case codec.SubmitSMRespID:
			i := int(h.Sequence) - legitSeq0
			l.mu.Lock()
			if i >= 0 && i < l.n && l.lat[i] == 0 {
				l.lat[i] = max(now.Sub(l.due[i]), 1)
				l.status[i] = h.Status
			}
			l.mu.Unlock()
		case codec.EnquireLinkID, codec.DeliverSMID, codec.UnbindID:
			l.wmu.Lock()
			err := writeAll(l.c, smpptest.Frame(h.CommandID.Response(), 0, h.Sequence, respBody(h.CommandID)), legitWriteCap)
			l.wmu.Unlock()
			if h.CommandID == codec.UnbindID {
				l.fail("the server unbound the legitimate client")
			}
			if err != nil {
				l.fail("write: " + err.Error())
			}
		}
	}
}

// respBody is the body of our answer to a server request: deliver_sm_resp
// carries an empty message_id (SMPP 3.4 §4.6.2).
func respBody(id codec.CommandID) []byte {
	if id == codec.DeliverSMID {
		return []byte{0}
	}
	return nil
}

// stop ends the submits, gives the last ones answerBound to be answered,
// and closes the connection.
func (l *legit) stop() {
	close(l.quit)
	<-l.wdone
	deadline := time.Now().Add(answerBound)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		open := 0
		for i := range l.n {
			if l.lat[i] == 0 {
				open++
			}
		}
		broken := l.err != ""
		l.mu.Unlock()
		if open == 0 || broken {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	l.c.Close()
	<-l.rdone
}

// stats returns the figures of the submits intended in [from, to).
func (l *legit) stats(from, to time.Time) LegitStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s LegitStats
	var lats []time.Duration
	for i := range l.n {
		if l.due[i].Before(from) || !l.due[i].Before(to) {
			continue
		}
		s.Sent++
		d := l.lat[i]
		if d == 0 {
			s.Missed++
			continue
		}
		s.Answered++
		lats = append(lats, d)
		if d > answerBound {
			s.Late++
		}
		if l.status[i] != codec.StatusOK {
			s.NotOK++
		}
	}
	s.Err = l.err
	if len(lats) > 0 {
		slices.Sort(lats)
		s.P50 = lats[(len(lats)-1)*50/100]
		s.P99 = lats[(len(lats)-1)*99/100]
		s.Max = lats[len(lats)-1]
	}
	return s
}
