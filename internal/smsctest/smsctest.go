// Package smsctest is an in-process SMSC for tests, built on our codec: it
// listens on 127.0.0.1 (an ephemeral port), accepts binds, answers
// submit_sm with message ids of its own (decimal or hex, so id mapping is
// really exercised) and can be scripted per message: refuse with a status,
// delay or hold the response, drop the connection, send a delivery receipt
// (Appendix B text and/or TLVs, before or after the response). It also
// injects MO deliver_sm, unbinds or drops every session on request, and
// counts binds, enquire_links, unbinds and submits.
//
// # Use
//
//	srv, err := smsctest.Start(smsctest.Options{SystemID: "up", Password: "pw", IDFormat: smsctest.IDHexUpper})
//	defer srv.Close()
//	// point the client at srv.Host(), srv.Port(); then assert on srv.SubmitCount(), srv.Submits(), ...
//
// Every Server method is safe for concurrent use. Counters are snapshots;
// tests poll them with a deadline. Script and Manage run on the reader
// goroutine of the connection that received the PDU, so concurrently when
// several connections are bound: guard shared state. They may block
// (holding that connection's traffic) but must not call Close.
//
// With Options.Script nil and Options.Record false, answering a submit_sm
// (and sending its receipt) allocates nothing in steady state, so
// benchmarks of clients can run against the server in the same process.
package smsctest

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
)

// BindKinds is a set of bind types the server accepts.
type BindKinds uint8

// Bind kinds.
const (
	AllowTransmitter BindKinds = 1 << iota
	AllowReceiver
	AllowTransceiver
	AllowAll = AllowTransmitter | AllowReceiver | AllowTransceiver
)

// IDFormat is how the server writes message ids. The zero value means "the
// default": decimal for Options.IDFormat, the response's format for
// Receipt.IDFormat.
type IDFormat uint8

// Id formats.
const (
	IDDefault  IDFormat = iota
	IDDecimal           // "2031617"
	IDHexUpper          // "1F0001"
	IDHexLower          // "1f0001"
)

// ReceiptForm says how a receipt carries its data; the zero value is both.
type ReceiptForm uint8

// Receipt forms.
const (
	ReceiptBoth ReceiptForm = iota // Appendix B text and the TLVs
	ReceiptText                    // text only (short_message)
	ReceiptTLV                     // receipted_message_id, message_state (and network_error_code) only
)

// Options configure a Server. The zero value accepts any credentials and
// every bind type, answers every submit_sm with ESME_ROK and a decimal id,
// and sends no receipts.
type Options struct {
	// SystemID and Password, when non-empty, must match the bind's
	// (ESME_RINVSYSID / ESME_RINVPASWD otherwise).
	SystemID, Password string
	// SystemType, when non-empty, must match the bind's (ESME_RINVSYSTYP).
	SystemType string
	// Binds is the set of accepted bind types (0 = all); others get
	// ESME_RBINDFAIL.
	Binds BindKinds
	// IDFormat is the submit_sm_resp message_id format (default decimal);
	// IDWidth zero-pads ids to that many digits; FirstID is the value of the
	// first id (default 0x1F0001, so hex ids contain letters).
	IDFormat IDFormat
	IDWidth  int
	FirstID  uint64
	// TLS, when set, makes the listener speak TLS.
	TLS *tls.Config
	// Default is the action for every submit_sm when Script is nil.
	Default Action
	// Script, when set, decides the action per submit_sm. It runs on the
	// connection's reader goroutine (concurrently across connections); the
	// views in s are valid only during the call.
	Script func(s *Submit) Action
	// Manage, when set, answers cancel_sm and replace_sm (cmd tells them
	// apart; messageID is a view valid during the call); nil answers
	// ESME_ROK.
	Manage func(cmd codec.CommandID, messageID []byte) codec.Status
	// Record keeps a copy of every submit_sm received (see Submits).
	Record bool
	// Now is the clock for receipt dates and Recorded.At (default time.Now).
	Now func() time.Time
}

// Action is what the server does with one submit_sm.
type Action struct {
	// Status answers the submit_sm with this command_status (0 = accept
	// with a new id; any other status gets an empty message_id).
	Status codec.Status
	// Delay sends the response this long after the request.
	Delay time.Duration
	// Hold keeps the response until ReleaseHeld (after Delay, if any).
	Hold bool
	// Drop closes the connection instead of answering.
	Drop bool
	// Nack answers with generic_nack carrying Status instead of
	// submit_sm_resp (SMSCs that throttle that way).
	Nack bool
	// Receipt asks for a delivery receipt of an accepted message.
	Receipt Receipt
}

// Receipt describes a delivery receipt deliver_sm (esm_class 0x04, or 0x20
// when Intermediate). It goes on the submitting connection when that is a
// transceiver, else on a bound receiver or transceiver with the same
// system_id; with none bound it waits until one binds.
type Receipt struct {
	Send bool
	// Before sends the receipt before the submit_sm_resp (an SMSC whose
	// receipt overtakes its response); otherwise it follows the response,
	// after Delay.
	Before bool
	Delay  time.Duration
	// State is the message_state reported (default DELIVERED).
	State codec.MessageState
	// Err is the receipt's err: code.
	Err  int
	Form ReceiptForm
	// NetworkError, when HasNetErr, is sent as the network_error_code TLV
	// (with the TLV form).
	NetworkError [3]byte
	HasNetErr    bool
	Intermediate bool
	// IDFormat writes the receipt's id in another base than the response
	// (default: the response's format).
	IDFormat IDFormat
}

// Submit is one submit_sm as Script sees it. SM and ID are views valid only
// during the Script call.
type Submit struct {
	N        int             // 1-based count of submit_sm received by the server
	Conn     int             // connection number (1-based, in accept order)
	Bind     codec.CommandID // the connection's bind command id
	Sequence uint32
	SM       *codec.SM
	ID       []byte // the message id the server will answer with if it accepts
}

// Recorded is a copy of a submit_sm kept with Options.Record.
type Recorded struct {
	N                  int
	Conn               int
	Bind               codec.CommandID
	ID                 string // the id answered (or that would have been)
	Status             codec.Status
	ServiceType        string
	Source, Dest       string
	ESMClass           byte
	RegisteredDelivery byte
	DataCoding         byte
	ValidityPeriod     string
	ShortMessage       []byte
	TLVs               []byte // raw optional parameters
	At                 time.Time
}

// MO is a mobile-originated message for DeliverMO.
type MO struct {
	Source, Dest string
	ESMClass     byte
	DataCoding   byte
	ShortMessage []byte
	// TLVs are encoded optional parameters appended to the deliver_sm.
	TLVs []byte
	// SystemID picks sessions bound with that system_id ("" = any).
	SystemID string
}

// BindInfo describes an accepted or refused bind.
type BindInfo struct {
	Kind       codec.CommandID
	SystemID   string
	Password   string
	SystemType string
	Status     codec.Status
}

// ErrNoReceiver is returned by DeliverMO when no receiver or transceiver is
// bound.
var ErrNoReceiver = errors.New("smsctest: no receiver or transceiver bound")

// Server is a running SMSC. Build it with Start; stop it with Close.
type Server struct {
	opts Options
	ln   net.Listener
	wg   sync.WaitGroup
	now  func() time.Time

	nextID atomic.Uint64

	mu       sync.Mutex
	conns    map[int]*conn
	connN    int
	held     []heldResp
	pending  [][]byte // receipts waiting for a receiver: encoded deliver_sm bodies with their target system_id
	pendSys  []string
	records  []Recorded
	lastBind BindInfo
	rr       int
	closed   bool

	binds, bindFails, enquires, unbinds atomic.Int64
	submits, bound                      atomic.Int64
	bindsOf                             [3]atomic.Int64 // transmitter, receiver, transceiver
	maxOut                              atomic.Int64
	dlrOK, dlrFail                      atomic.Int64
	receiptsSent, mosSent               atomic.Int64
	cancels, replaces                   atomic.Int64
}

type heldResp struct {
	c     *conn
	frame []byte
	after []byte // receipt deliver_sm body to send after the response, or nil
	rsys  string
}

// Start listens on 127.0.0.1 with an ephemeral port and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Binds == 0 {
		opts.Binds = AllowAll
	}
	if opts.IDFormat == IDDefault {
		opts.IDFormat = IDDecimal
	}
	if opts.FirstID == 0 {
		opts.FirstID = 0x1F0001
	}
	s := &Server{opts: opts, conns: make(map[int]*conn), now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	s.nextID.Store(opts.FirstID)
	var err error
	if opts.TLS != nil {
		s.ln, err = tls.Listen("tcp", "127.0.0.1:0", opts.TLS)
	} else {
		s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, err
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns the listening IP, "127.0.0.1".
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port returns the listening port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops listening, closes every connection and waits for the
// server's goroutines. Held responses are discarded.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.held = nil
	for _, c := range s.conns {
		_ = c.nc.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.connN++
		c := newConn(s, nc, s.connN)
		s.conns[c.n] = c
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// Binds returns the number of accepted binds since Start.
func (s *Server) Binds() int { return int(s.binds.Load()) }

// BindsOf returns the accepted binds of one kind (codec.BindTransmitterID,
// BindReceiverID or BindTransceiverID) since Start.
func (s *Server) BindsOf(kind codec.CommandID) int {
	if i := kindIndex(kind); i >= 0 {
		return int(s.bindsOf[i].Load())
	}
	return 0
}

// BindFailures returns the number of refused binds.
func (s *Server) BindFailures() int { return int(s.bindFails.Load()) }

// Bound returns the number of sessions bound now.
func (s *Server) Bound() int { return int(s.bound.Load()) }

// BoundOf returns the number of sessions of one bind kind bound now.
func (s *Server) BoundOf(kind codec.CommandID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		if c.kind.Load() == uint32(kind) {
			n++
		}
	}
	return n
}

// LastBind returns the most recent bind request and its answer.
func (s *Server) LastBind() BindInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastBind
}

// EnquireLinks returns the number of enquire_link requests received.
func (s *Server) EnquireLinks() int { return int(s.enquires.Load()) }

// Unbinds returns the number of unbind requests received from clients.
func (s *Server) Unbinds() int { return int(s.unbinds.Load()) }

// SubmitCount returns the number of submit_sm received.
func (s *Server) SubmitCount() int { return int(s.submits.Load()) }

// Submits returns copies of the submit_sm received so far (Options.Record).
func (s *Server) Submits() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recorded(nil), s.records...)
}

// MaxOutstanding returns the largest number of submit_sm one connection
// had unanswered at the same time: the client's effective window.
func (s *Server) MaxOutstanding() int { return int(s.maxOut.Load()) }

// Outstanding returns the submit_sm received and not yet answered, over
// all connections.
func (s *Server) Outstanding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		n += int(c.out.Load())
	}
	return n
}

// Held returns the number of responses kept by Action.Hold.
func (s *Server) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held)
}

// ReleaseHeld sends every held response (and the receipts that follow
// them) and returns how many it sent. Responses of closed connections are
// dropped.
func (s *Server) ReleaseHeld() int {
	s.mu.Lock()
	h := s.held
	s.held = nil
	s.mu.Unlock()
	n := 0
	for _, r := range h {
		if r.c.sendResp(r.frame) == nil {
			n++
		}
		if r.after != nil {
			s.routeReceipt(r.c, r.rsys, r.after)
		}
	}
	return n
}

// Cancels and Replaces return the cancel_sm and replace_sm received.
func (s *Server) Cancels() int  { return int(s.cancels.Load()) }
func (s *Server) Replaces() int { return int(s.replaces.Load()) }

// ReceiptsSent returns the number of receipt deliver_sm written.
func (s *Server) ReceiptsSent() int { return int(s.receiptsSent.Load()) }

// MOSent returns the number of MO deliver_sm written by DeliverMO.
func (s *Server) MOSent() int { return int(s.mosSent.Load()) }

// DeliverResps returns the deliver_sm_resp received: with ESME_ROK and
// with any other status.
func (s *Server) DeliverResps() (ok, failed int) {
	return int(s.dlrOK.Load()), int(s.dlrFail.Load())
}

// DropAll closes every connection at once (an SMSC crash or a network cut)
// and returns how many it closed.
func (s *Server) DropAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.nc.Close()
	}
	return len(s.conns)
}

// UnbindAll sends unbind to every bound session; each closes when its
// unbind_resp arrives. It returns how many it sent.
func (s *Server) UnbindAll() int {
	s.mu.Lock()
	cs := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		if c.kind.Load() != 0 {
			cs = append(cs, c)
		}
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.sendUnbind()
	}
	return len(cs)
}

// DeliverMO sends mo as a deliver_sm on a bound receiver or transceiver
// (round robin). It does not wait for the deliver_sm_resp (see
// DeliverResps).
func (s *Server) DeliverMO(mo MO) error {
	sm := codec.SM{
		SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte(mo.Source),
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: []byte(mo.Dest),
		ESMClass: mo.ESMClass, DataCoding: mo.DataCoding, ShortMessage: mo.ShortMessage,
	}
	if len(mo.TLVs) > 0 {
		if err := sm.TLVs.SetRaw(mo.TLVs); err != nil {
			return err
		}
	}
	body, err := sm.Append(nil, codec.Header{CommandID: codec.DeliverSMID})
	if err != nil {
		return err
	}
	c := s.pickReceiver(mo.SystemID)
	if c == nil {
		return ErrNoReceiver
	}
	if err := c.sendRequest(body); err != nil {
		return err
	}
	s.mosSent.Add(1)
	return nil
}

// SendReceipt sends a receipt for message id (as the server answered it)
// now, on a bound receiver or transceiver, with source and destination as
// given (those of the original submit, not swapped).
func (s *Server) SendReceipt(id, source, dest string, r Receipt) error {
	var sm codec.SM
	var buf receiptBuf
	body, err := buildReceipt(&sm, &buf, []byte(id), r, []byte(source), []byte(dest), nil, s.now())
	if err != nil {
		return err
	}
	c := s.pickReceiver("")
	if c == nil {
		return ErrNoReceiver
	}
	if err := c.sendRequest(body); err != nil {
		return err
	}
	s.receiptsSent.Add(1)
	return nil
}

// pickReceiver returns a bound rx-capable connection, round robin, with
// system_id sys ("" = any), or nil.
func (s *Server) pickReceiver(sys string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pickReceiverLocked(sys)
}

func (s *Server) pickReceiverLocked(sys string) *conn {
	// Round robin by connection number: the lowest number above the last
	// one chosen, else the lowest (map order is random).
	var next, first *conn
	for _, c := range s.conns {
		if !c.rxCapable() || c.isClosed() || (sys != "" && c.systemID != sys) {
			continue
		}
		if first == nil || c.n < first.n {
			first = c
		}
		if c.n > s.rr && (next == nil || c.n < next.n) {
			next = c
		}
	}
	if next == nil {
		next = first
	}
	if next != nil {
		s.rr = next.n
	}
	return next
}

// routeReceipt writes an encoded receipt deliver_sm (header sequence filled
// by the writer) on from when it is a transceiver, else on a receiver of
// the same system_id, else keeps it until one binds.
func (s *Server) routeReceipt(from *conn, sys string, frame []byte) {
	c := from
	if c == nil || !c.rxCapable() || c.isClosed() {
		c = s.pickReceiver(sys)
	}
	if c != nil && c.sendRequest(frame) == nil {
		s.receiptsSent.Add(1)
		return
	}
	s.mu.Lock()
	if !s.closed {
		s.pending = append(s.pending, append([]byte(nil), frame...))
		s.pendSys = append(s.pendSys, sys)
	}
	s.mu.Unlock()
}

// flushPending sends the receipts waiting for a receiver of c's system_id.
func (s *Server) flushPending(c *conn) {
	s.mu.Lock()
	var out [][]byte
	keep, keepSys := s.pending[:0], s.pendSys[:0]
	for i, f := range s.pending {
		if s.pendSys[i] == "" || s.pendSys[i] == c.systemID {
			out = append(out, f)
			continue
		}
		keep, keepSys = append(keep, f), append(keepSys, s.pendSys[i])
	}
	s.pending, s.pendSys = keep, keepSys
	s.mu.Unlock()
	for _, f := range out {
		if c.sendRequest(f) == nil {
			s.receiptsSent.Add(1)
		}
	}
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c.n)
	s.mu.Unlock()
}

func (s *Server) noteOutstanding(n int64) {
	for {
		m := s.maxOut.Load()
		if n <= m || s.maxOut.CompareAndSwap(m, n) {
			return
		}
	}
}

func kindIndex(k codec.CommandID) int {
	switch k {
	case codec.BindTransmitterID:
		return 0
	case codec.BindReceiverID:
		return 1
	case codec.BindTransceiverID:
		return 2
	}
	return -1
}

// appendID appends id v in format f, zero-padded to width.
func appendID(dst []byte, v uint64, f IDFormat, width int) []byte {
	var tmp [24]byte
	var d []byte
	switch f {
	case IDHexUpper, IDHexLower:
		d = strconv.AppendUint(tmp[:0], v, 16)
		if f == IDHexUpper {
			for i, c := range d {
				if c >= 'a' && c <= 'f' {
					d[i] = c - ('a' - 'A')
				}
			}
		}
	default:
		d = strconv.AppendUint(tmp[:0], v, 10)
	}
	for i := len(d); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}
