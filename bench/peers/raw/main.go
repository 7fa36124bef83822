// Command raw is the physical-ceiling SMSC for smppbench: see package
// rawsmsc. It listens on 127.0.0.1:2776 unless told otherwise, and stops on
// SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/smppd/smppd/bench/peers/raw/rawsmsc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:2776", "listen address")
	flag.Parse()
	s, err := rawsmsc.Listen(*addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "raw:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "raw SMSC listening on", s.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	_ = s.Close()
}
