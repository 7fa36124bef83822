// Command gosmpp is a peer SMSC for smppbench built on the PDU codec of
// github.com/linxGnu/gosmpp v0.3.1, the Go SMPP library the Go module proxy
// serves (fiorix/go-smpp and ajankovic/smpp are refused there). The library
// ships only the ESME side, so the server is its pdu.Parse and Marshal over
// a net.Listener: one goroutine per connection reading, one writing. It
// accepts any bind, answers submit_sm with a fresh decimal message_id and,
// when registered_delivery asks for one, sends a delivery receipt after the
// answer. It stops on SIGINT or SIGTERM.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

var nextID atomic.Uint64

func main() {
	addr := flag.String("addr", "127.0.0.1:2784", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosmpp:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "gosmpp peer listening on", ln.Addr())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		_ = ln.Close()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}

// serve reads PDUs and hands the answers to a writer goroutine, as the
// library's own sessions do, so a slow reader never stalls the decoder.
func serve(c net.Conn) {
	out := make(chan pdu.PDU, 1024)
	done := make(chan struct{})
	go write(c, out, done)
	defer func() {
		close(out)
		<-done
		_ = c.Close()
	}()
	r := bufio.NewReaderSize(c, 64<<10)
	for {
		p, err := pdu.Parse(r)
		if err != nil {
			return
		}
		switch req := p.(type) {
		case *pdu.BindRequest:
			resp := pdu.NewBindResp(*req)
			resp.SystemID = "gosmpp"
			out <- resp
		case *pdu.SubmitSM:
			resp := pdu.NewSubmitSMRespFromReq(req).(*pdu.SubmitSMResp)
			id := strconv.FormatUint(nextID.Add(1), 10)
			resp.MessageID = id
			out <- resp
			if req.RegisteredDelivery&1 != 0 {
				out <- receipt(req, id)
			}
		case *pdu.Unbind:
			out <- req.GetResponse()
			return
		case *pdu.DeliverSMResp:
		default:
			if p.CanResponse() {
				out <- p.GetResponse()
			}
		}
	}
}

// write marshals the answers and flushes when no more are queued, so a
// window of answers leaves in one write.
func write(c net.Conn, out <-chan pdu.PDU, done chan<- struct{}) {
	defer close(done)
	w := bufio.NewWriterSize(c, 64<<10)
	failed := false
	for p := range out {
		if failed {
			continue
		}
		b := pdu.NewBuffer(nil)
		p.Marshal(b)
		if _, err := w.Write(b.Bytes()); err != nil {
			failed = true
			continue
		}
		if len(out) == 0 && w.Flush() != nil {
			failed = true
		}
	}
	_ = w.Flush()
}

// receipt is the deliver_sm for a submit: receipted_message_id and
// message_state TLVs (SMPP v3.4 section 5.3.2.12, 5.3.2.35) and the
// Appendix B text.
func receipt(req *pdu.SubmitSM, id string) pdu.PDU {
	d := pdu.NewDeliverSM().(*pdu.DeliverSM)
	d.SourceAddr = req.DestAddr
	d.DestAddr = req.SourceAddr
	d.EsmClass = data.SM_SMSC_DLV_RCPT_TYPE
	now := time.Now().UTC().Format("0601021504")
	_ = d.Message.SetMessageWithEncoding("id:"+id+" sub:001 dlvrd:001 submit date:"+now+" done date:"+now+
		" stat:DELIVRD err:000 text:", data.GSM7BIT)
	d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: append([]byte(id), 0)})
	d.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{2}})
	return d
}
