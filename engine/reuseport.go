package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// A hand-over (Options.ReusePort): the SMPP listeners of this process and
// of its successor share each port through SO_REUSEPORT, and StopAccepting
// takes this process's sockets out of the kernel's group while its
// sessions go on, so every new connection reaches the successor
// (docs/adr/0005-upgrade-listener-hand-over.md).

// checkReusePort refuses a ReusePort address with port 0: gnet opens one
// listener per event loop from the address, and port 0 would give each a
// different port.
func checkReusePort(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("engine: Addr %q: %w", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p == 0 {
		return fmt.Errorf("engine: ReusePort needs a fixed port, not %q", addr)
	}
	return nil
}

// listenTLS opens the TLS listener, with SO_REUSEPORT under ReusePort.
func (srv *Server) listenTLS() (net.Listener, error) {
	var lc net.ListenConfig
	if srv.opts.ReusePort {
		lc.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			if err := c.Control(func(fd uintptr) {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}); err != nil {
				return err
			}
			return serr
		}
	}
	return lc.Listen(context.Background(), "tcp", srv.opts.TLSAddr)
}

// reuseState tells this server's listeners from those of another server
// in the same process (tests run the old and the new side by side): the
// sockets on the address that appeared during Start are this server's.
type reuseState struct {
	foreign map[uint64]int  // socket inodes (to descriptors) listening before Start
	own     map[uint64]bool // this server's, found after Start
	once    sync.Once       // StopAccepting
}

func (r *reuseState) before(on bool) {
	if on {
		r.foreign, _ = listeners(nil) // an unreadable /proc fails after()
	}
}

func (r *reuseState) after(on bool, addr *net.TCPAddr) error {
	if !on {
		return nil
	}
	all, err := listeners(addr)
	if err != nil {
		return fmt.Errorf("engine: ReusePort listeners: %w", err)
	}
	r.own = make(map[uint64]bool, len(all))
	for ino := range all {
		if _, old := r.foreign[ino]; !old {
			r.own[ino] = true
		}
	}
	if len(r.own) == 0 {
		return errors.New("engine: ReusePort: no listening socket of this server found")
	}
	return nil
}

// StopAccepting closes the listeners while the sessions go on. With
// ReusePort it takes every plain SMPP listener of this server out of the
// port's SO_REUSEPORT group (the kernel then gives new connections to the
// process that shares the port) and closes the TLS listener; without it,
// the TLS listener only (gnet's listener closes with its engine in
// Shutdown). Connections already queued on a closed listener are reset by
// the kernel unless net.ipv4.tcp_migrate_req moves them. Idempotent; call
// after Start.
func (srv *Server) StopAccepting() {
	srv.reuse.once.Do(func() {
		if srv.tlsLn != nil {
			_ = srv.tlsLn.Close()
		}
		if !srv.opts.ReusePort || srv.reuse.own == nil {
			return
		}
		n, err := detachListeners(srv.addr, srv.reuse.own)
		if err != nil {
			srv.log.Error().Str("event", "stop_accepting").Err(err).Int("closed", n).
				Msg("could not close every SMPP listener: new connections may still reach this process while it drains")
			return
		}
		srv.log.Info().Str("event", "stop_accepting").Str("addr", srv.addr.String()).Int("listeners", n).
			Msg("SMPP listeners closed; new connections go to the process sharing the port")
	})
}

// listeners maps the socket inode of each listening TCP socket of this
// process with SO_REUSEPORT set, bound to addr (any address when nil), to
// its descriptor.
func listeners(addr *net.TCPAddr) (map[uint64]int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, fmt.Errorf("listing descriptors: %w", err)
	}
	out := make(map[uint64]int)
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || !isListener(fd, addr) {
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil {
			out[st.Ino] = fd
		}
	}
	return out, nil
}

// detachListeners closes the listening sockets own (gnet's, one per event
// loop: gnet has no call to close a listener and keep its loops). Each
// descriptor is replaced with dup3 by a placeholder, so that gnet's loops
// keep a valid listening descriptor to poll, accept from (EAGAIN: nothing
// can reach it) and close at Shutdown; the socket itself leaves the group
// as its last descriptor goes. It returns how many it replaced.
func detachListeners(addr *net.TCPAddr, own map[uint64]bool) (int, error) {
	all, err := listeners(addr)
	if err != nil {
		return 0, err
	}
	n := 0
	for ino, fd := range all {
		if !own[ino] {
			continue
		}
		ph, err := placeholder()
		if err != nil {
			return n, err
		}
		err = unix.Dup3(ph, fd, unix.O_CLOEXEC)
		_ = unix.Close(ph)
		if err != nil {
			return n, fmt.Errorf("replacing listener fd %d: %w", fd, err)
		}
		n++
	}
	if n != len(own) {
		return n, fmt.Errorf("%d of %d listening sockets found", n, len(own))
	}
	return n, nil
}

// isListener says whether fd is a listening TCP socket with SO_REUSEPORT
// set, bound to addr (any when nil).
func isListener(fd int, addr *net.TCPAddr) bool {
	if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ACCEPTCONN); err != nil || v != 1 {
		return false
	}
	if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT); err != nil || v != 1 {
		return false
	}
	if addr == nil {
		return true
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return false
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port == addr.Port && net.IP(a.Addr[:]).Equal(addr.IP)
	case *unix.SockaddrInet6:
		return a.Port == addr.Port && net.IP(a.Addr[:]).Equal(addr.IP)
	}
	return false
}

// placeholder returns a non-blocking loopback TCP socket that listens but
// drops every packet (a socket filter returning 0), so no connection ever
// reaches it and accept on it answers EAGAIN. On 127.0.0.1, or on ::1 where
// the host has no IPv4 loopback.
func placeholder() (int, error) {
	fd, err := listenDropAll(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}})
	if err != nil {
		var err6 error
		if fd, err6 = listenDropAll(unix.AF_INET6, &unix.SockaddrInet6{Addr: [16]byte{15: 1}}); err6 != nil {
			return -1, fmt.Errorf("placeholder socket: %w; on ::1: %w", err, err6)
		}
	}
	return fd, nil
}

func listenDropAll(family int, sa unix.Sockaddr) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	drop := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	err = unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &unix.SockFprog{Len: 1, Filter: &drop[0]})
	if err == nil {
		err = unix.Bind(fd, sa)
	}
	if err == nil {
		err = unix.Listen(fd, 1)
	}
	if err != nil {
		_ = unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
