// Command gosmpp-suite drives smppd with github.com/linxGnu/gosmpp (v0.3.1)
// as the client. Usage: gosmpp-suite [host:port]; env SMPPD_ADMIN (admin API
// base URL, for MO injection) and SMPPD_ADMIN_TOKEN (optional bearer token).
// Prints PASS/FAIL per case and "N passed, M failed"; exits 1 on failures.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

const wait = 5 * time.Second

var (
	addr           = "127.0.0.1:2775"
	passed, failed int
	nonce          = strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	hexID          = regexp.MustCompile(`^[0-9a-f]{16}$`)
)

func record(name string, ok bool, why string, args ...any) {
	state := "PASS"
	if ok {
		passed++
	} else {
		failed++
		state = "FAIL"
	}
	if why = fmt.Sprintf(why, args...); why != "" {
		why = ": " + why
	}
	fmt.Printf("%s %s%s\n", state, name, why)
}

// client is one bound session: responses reach the request waiting for
// their sequence number; every deliver_sm is answered and kept.
type client struct {
	sess      *gosmpp.Session
	mu        sync.Mutex
	pending   map[int32]chan pdu.PDU
	delivered []*pdu.DeliverSM
	arrived   chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func bind(kind pdu.BindingType, systemID, password string) (*client, error) {
	c := &client{pending: map[int32]chan pdu.PDU{}, arrived: make(chan struct{}, 64), closed: make(chan struct{})}
	auth := gosmpp.Auth{SMSC: addr, SystemID: systemID, Password: password}
	var conn gosmpp.Connector
	switch kind {
	case pdu.Transmitter:
		conn = gosmpp.TXConnector(gosmpp.NonTLSDialer, auth)
	case pdu.Receiver:
		conn = gosmpp.RXConnector(gosmpp.NonTLSDialer, auth)
	default:
		conn = gosmpp.TRXConnector(gosmpp.NonTLSDialer, auth)
	}
	sess, err := gosmpp.NewSession(conn, gosmpp.Settings{
		ReadTimeout: 30 * time.Second,
		OnAllPDU:    c.onPDU,
		OnClosed:    func(gosmpp.State) { c.closeOnce.Do(func() { close(c.closed) }) },
	}, 0)
	if err != nil {
		return nil, err
	}
	c.sess = sess
	return c, nil
}

func (c *client) onPDU(p pdu.PDU) (pdu.PDU, bool) {
	switch v := p.(type) {
	case *pdu.DeliverSM:
		c.mu.Lock()
		c.delivered = append(c.delivered, v)
		c.mu.Unlock()
		select {
		case c.arrived <- struct{}{}:
		default:
		}
		return v.GetResponse(), false
	case *pdu.EnquireLink:
		return v.GetResponse(), false
	case *pdu.Unbind:
		return v.GetResponse(), true
	}
	c.mu.Lock()
	ch := c.pending[p.GetSequenceNumber()]
	delete(c.pending, p.GetSequenceNumber())
	c.mu.Unlock()
	if ch != nil {
		ch <- p
	}
	return nil, false
}

// call submits a request and waits for its response.
func (c *client) call(req pdu.PDU) (pdu.PDU, error) {
	ch := make(chan pdu.PDU, 1)
	c.mu.Lock()
	c.pending[req.GetSequenceNumber()] = ch
	c.mu.Unlock()
	if err := c.sess.Transceiver().Submit(req); err != nil {
		return nil, err
	}
	select {
	case resp := <-ch:
		return resp, nil
	case <-time.After(wait):
		return nil, fmt.Errorf("no response to %T in %v", req, wait)
	}
}

// waitDeliver returns the first deliver_sm matching ok, or nil after wait.
func (c *client) waitDeliver(ok func(*pdu.DeliverSM) bool) *pdu.DeliverSM {
	deadline := time.After(wait)
	for {
		c.mu.Lock()
		for _, d := range c.delivered {
			if ok(d) {
				c.mu.Unlock()
				return d
			}
		}
		c.mu.Unlock()
		select {
		case <-c.arrived:
		case <-deadline:
			return nil
		}
	}
}

func (c *client) done() {
	_, _ = c.call(pdu.NewUnbind())
	_ = c.sess.Close()
}

func status(p pdu.PDU) data.CommandStatusType { return p.GetHeader().CommandStatus }

func isReceipt(d *pdu.DeliverSM) bool { return d.EsmClass&0x3c == 0x04 }

func text(d *pdu.DeliverSM) string {
	s, err := d.Message.GetMessage()
	if err != nil {
		return "<undecodable: " + err.Error() + ">"
	}
	return s
}

func tlv(p *pdu.DeliverSM, tag pdu.Tag) string {
	f, ok := p.OptionalParameters[tag]
	if !ok {
		return ""
	}
	return f.String()
}

func submitSM(src, dst string, msg pdu.ShortMessage) *pdu.SubmitSM {
	s := pdu.NewSubmitSM().(*pdu.SubmitSM)
	s.SourceAddr, _ = pdu.NewAddressWithAddr(src)
	s.DestAddr, _ = pdu.NewAddressWithAddr(dst)
	s.Message = msg
	return s
}

func submit(c *client, s *pdu.SubmitSM) (string, error) {
	r, err := c.call(s)
	if err != nil {
		return "", err
	}
	resp, ok := r.(*pdu.SubmitSMResp)
	if !ok {
		return "", fmt.Errorf("answered with %T %v", r, status(r))
	}
	if status(r) != data.ESME_ROK {
		return "", fmt.Errorf("%v", status(r))
	}
	return resp.MessageID, nil
}

// injectMO posts an MO to smppd's admin API.
func injectMO(systemID, msg string) error {
	admin := os.Getenv("SMPPD_ADMIN")
	if admin == "" {
		return errors.New("no admin listener ([admin] missing from the config): cannot inject MO")
	}
	body, _ := json.Marshal(map[string]string{
		"source_addr": "491700000001", "destination_addr": "12345", "short_message": msg, "system_id": systemID,
	})
	req, err := http.NewRequest(http.MethodPost, admin+"/v1/mo", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if tok := os.Getenv("SMPPD_ADMIN_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := (&http.Client{Timeout: wait}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("admin API answered %d %s", resp.StatusCode, strings.TrimSpace(string(out)))
	}
	return nil
}

func caseBind(kind pdu.BindingType, name string) {
	c, err := bind(kind, "demo", "demopass")
	if err != nil {
		record(name, false, "%v", err)
		return
	}
	id := c.sess.Transceiver().SystemID()
	record(name, id != "", "bound, server system_id %q", id)
	c.done()
}

// caseWrongPassword tries every bind type: each must come back as a
// refused password the client itself recognises.
func caseWrongPassword() {
	ok := true
	var why []string
	kinds := []pdu.BindingType{pdu.Transmitter, pdu.Receiver, pdu.Transceiver}
	for i, name := range []string{"transmitter", "receiver", "transceiver"} {
		c, err := bind(kinds[i], "demo", "wrong")
		if err == nil {
			ok = false
			why = append(why, name+": bind accepted")
			c.done()
			continue
		}
		var be gosmpp.BindError
		if !errors.As(err, &be) || be.CommandStatus != data.ESME_RINVPASWD {
			ok = false
		}
		why = append(why, fmt.Sprintf("%s: %q", name, err.Error()))
	}
	record("wrong password refused", ok, "client reports %s", strings.Join(why, ", "))
}

func caseSubmits(c *client) {
	msg, _ := pdu.NewShortMessageWithEncoding("GSM7 gosmpp @£$¥èé ΔΦ {}[]~€", data.GSM7BIT)
	id, err := submit(c, submitSM("12345", "491701234567", msg))
	record("submit GSM7", err == nil && hexID.MatchString(id), "message_id %q %v", id, errOrOK(err))

	msg, _ = pdu.NewShortMessageWithEncoding("UCS2 gosmpp Привет мир ✓ 你好", data.UCS2)
	id, err = submit(c, submitSM("12345", "491701234567", msg))
	record("submit UCS2", err == nil && id != "", "message_id %q %v", id, errOrOK(err))

	body := strings.Repeat("Long gosmpp message. ", 20)[:400]
	long := submitSM("12345", "491701234567", pdu.ShortMessage{})
	_ = long.Message.SetLongMessageWithEnc(body, data.GSM7BIT)
	parts, err := long.Split()
	var ids, bad []string
	if err != nil {
		bad = append(bad, "split: "+err.Error())
	}
	for i, p := range parts {
		if id, err := submit(c, p); err != nil {
			bad = append(bad, fmt.Sprintf("part %d: %v", i+1, err))
		} else {
			ids = append(ids, id)
		}
	}
	why := "ids " + strings.Join(ids, ",")
	if len(bad) > 0 {
		why = strings.Join(bad, ", ")
	}
	record("long message 3-part UDH", len(bad) == 0 && len(parts) == 3 && len(ids) == 3,
		"%d parts, %s", len(parts), why)

	pl := submitSM("12345", "491701234567", pdu.ShortMessage{})
	pl.Message, _ = pdu.NewShortMessageWithEncoding("", data.GSM7BIT)
	enc, _ := data.GSM7BIT.Encode(body)
	pl.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessagePayload, Data: enc})
	id, err = submit(c, pl)
	record("long message message_payload", err == nil && id != "", "%d chars, message_id %q %v", len(body), id, errOrOK(err))
}

func errOrOK(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ESME_ROK"
}

func caseReceiptAndQuery(c *client) {
	msg, _ := pdu.NewShortMessage("receipt please " + nonce)
	s := submitSM("12345", "491709999999", msg)
	s.RegisteredDelivery = 1
	id, err := submit(c, s)
	if err != nil {
		record("receipt requested and received", false, "submit refused: %v", err)
	} else if dr := c.waitDeliver(func(d *pdu.DeliverSM) bool {
		return isReceipt(d) && tlv(d, pdu.TagReceiptedMessageID) == id
	}); dr != nil {
		t := text(dr)
		record("receipt requested and received", strings.Contains(t, "id:"+id), "receipted_message_id %s, text %q", id, t)
	} else {
		record("receipt requested and received", false, "no receipt for %s within %v", id, wait)
	}

	q := pdu.NewQuerySM().(*pdu.QuerySM)
	q.MessageID = id
	q.SourceAddr, _ = pdu.NewAddressWithAddr("12345")
	r, err := c.call(q)
	if err != nil {
		record("query_sm", false, "%v", err)
		return
	}
	qr, ok := r.(*pdu.QuerySMResp)
	if !ok || status(r) != data.ESME_ROK {
		record("query_sm", false, "%v for %s", status(r), id)
		return
	}
	states := []string{"?", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED", "UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED"}
	st := "?"
	if int(qr.MessageState) < len(states) {
		st = states[qr.MessageState]
	}
	record("query_sm", qr.MessageID == id && qr.MessageState >= 1 && qr.MessageState <= 8,
		"message_id %q state %d %s", qr.MessageID, qr.MessageState, st)
}

func caseMO(kind pdu.BindingType, label, systemID, password string) {
	name := "MO to " + label
	c, err := bind(kind, systemID, password)
	if err != nil {
		record(name, false, "%v", err)
		return
	}
	defer c.done()
	want := fmt.Sprintf("MO gosmpp %s %s @£$ €", label, nonce)
	if err := injectMO(systemID, want); err != nil {
		record(name, false, "%v", err)
		return
	}
	mo := c.waitDeliver(func(d *pdu.DeliverSM) bool {
		return !isReceipt(d) && strings.HasPrefix(text(d), fmt.Sprintf("MO gosmpp %s %s", label, nonce))
	})
	if mo == nil {
		record(name, false, "no deliver_sm within %v", wait)
		return
	}
	record(name, text(mo) == want, "got %q dcs %d", text(mo), mo.Message.Encoding().DataCoding())
}

func main() {
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	caseBind(pdu.Transmitter, "bind_transmitter")
	caseBind(pdu.Receiver, "bind_receiver")
	caseBind(pdu.Transceiver, "bind_transceiver")
	caseWrongPassword()

	if c, err := bind(pdu.Transceiver, "demo", "demopass"); err != nil {
		record("session", false, "%v", err)
	} else {
		caseSubmits(c)
		caseReceiptAndQuery(c)
		r, err := c.call(pdu.NewEnquireLink())
		if err != nil {
			record("enquire_link", false, "%v", err)
		} else {
			_, ok := r.(*pdu.EnquireLinkResp)
			record("enquire_link", ok && status(r) == data.ESME_ROK, "%T %v", r, status(r))
		}
		r, err = c.call(pdu.NewUnbind())
		if err != nil {
			record("unbind", false, "%v", err)
		} else {
			_, ok := r.(*pdu.UnbindResp)
			closed := "closed"
			select {
			case <-c.closed:
			case <-time.After(wait):
				closed, ok = "server kept the connection open", false
			}
			record("unbind", ok && status(r) == data.ESME_ROK, "%T %v, %s", r, status(r), closed)
		}
		_ = c.sess.Close()
	}
	caseMO(pdu.Transceiver, "transceiver", "demo", "demopass")
	caseMO(pdu.Receiver, "receiver", "demo2", "demopas2")

	fmt.Printf("%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
