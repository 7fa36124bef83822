//go:build linux && !race

package clustertest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// routeProxy stands in front of one node's NATS route port: the node
// advertises it (route_advertise) and every peer lists it in its routes,
// so each route to that node passes here. Cut off from node k, it drops
// and refuses every connection to or from node k; the dialler of a
// connection is the node whose process holds its client socket (/proc).
type routeProxy struct {
	ln   net.Listener
	node int // the node behind it

	mu      sync.Mutex
	target  string                // the node's route_listen
	conns   map[net.Conn]*proxied // accepted side -> its pair
	cutNode int                   // 0: none
	pids    map[int]int           // node -> PID, set by cut
	refused int                   // connections dropped or refused while cut
	unknown int                   // dialled by no node's process
}

type proxied struct {
	up   net.Conn
	from int // the dialling node; 0 until asked
}

func newRouteProxy(node int) (*routeProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &routeProxy{ln: ln, node: node, conns: map[net.Conn]*proxied{}}
	go p.serve()
	return p, nil
}

func (p *routeProxy) addr() string { return p.ln.Addr().String() }

func (p *routeProxy) setTarget(hostPort string) {
	p.mu.Lock()
	p.target = hostPort
	p.mu.Unlock()
}

func (p *routeProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, pr := range p.conns {
		_ = c.Close()
		_ = pr.up.Close()
	}
	clear(p.conns)
}

func (p *routeProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		blocked := p.cutNode != 0 && p.blocks(c, &proxied{})
		if blocked {
			p.refused++
		}
		target := p.target
		p.mu.Unlock()
		if blocked {
			_ = c.Close()
			continue
		}
		up, err := net.DialTimeout("tcp", target, time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		pr := &proxied{up: up}
		p.mu.Lock()
		if p.cutNode != 0 && p.blocks(c, pr) { // cut while this one was dialling
			p.refused++
			p.mu.Unlock()
			_ = c.Close()
			_ = up.Close()
			continue
		}
		p.conns[c] = pr
		p.mu.Unlock()
		go p.pipe(c, pr)
	}
}

func (p *routeProxy) pipe(c net.Conn, pr *proxied) {
	done := make(chan struct{})
	go func() { _, _ = io.Copy(pr.up, c); _ = pr.up.Close(); close(done) }()
	_, _ = io.Copy(c, pr.up)
	_ = c.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// blocks reports whether c, accepted here, joins the cut node to another;
// p.mu held. A connection no node's process dialled is blocked too: a
// route of the cut node must not slip through unrecognised.
func (p *routeProxy) blocks(c net.Conn, pr *proxied) bool {
	if p.node == p.cutNode {
		return true
	}
	if pr.from == 0 {
		pr.from = diallerOf(c, p.pids)
		if pr.from == 0 {
			p.unknown++
		}
	}
	return pr.from == 0 || pr.from == p.cutNode
}

// cut drops and refuses every route between node and the others through
// this proxy; pids names each node's process.
func (p *routeProxy) cut(node int, pids map[int]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutNode, p.pids = node, pids
	for c, pr := range p.conns {
		if p.blocks(c, pr) {
			p.refused++
			_ = c.Close()
			_ = pr.up.Close()
			delete(p.conns, c)
		}
	}
}

// heal lets every connection through again: the servers redial.
func (p *routeProxy) heal() {
	p.mu.Lock()
	p.cutNode = 0
	p.mu.Unlock()
}

func (p *routeProxy) counts() (refused, unknown int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused, p.unknown
}

// diallerOf returns the node whose process holds the client end of c (an
// accepted loopback TCP connection), or 0: the socket's inode from
// /proc/net/tcp, then the process whose descriptors name it.
func diallerOf(c net.Conn, pids map[int]int) int {
	client, ok1 := c.RemoteAddr().(*net.TCPAddr)
	server, ok2 := c.LocalAddr().(*net.TCPAddr)
	if !ok1 || !ok2 {
		return 0
	}
	inode := socketInode(client.Port, server.Port)
	if inode == "" {
		return 0
	}
	want := "socket:[" + inode + "]"
	for node, pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink(dir + "/" + fd.Name()); err == nil && l == want {
				return node
			}
		}
	}
	return 0
}

// socketInode finds in /proc/net/tcp the inode of the socket whose local
// port is local and remote port remote, or "".
func socketInode(local, remote int) string {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fs := strings.Fields(sc.Text())
		if len(fs) < 10 || fs[0] == "sl" {
			continue
		}
		if hexPort(fs[1]) == local && hexPort(fs[2]) == remote {
			return fs[9]
		}
	}
	return ""
}

// hexPort is the port of /proc/net/tcp's "0100007F:1F90" form, or -1.
func hexPort(addr string) int {
	_, port, ok := strings.Cut(addr, ":")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(port, 16, 32)
	if err != nil {
		return -1
	}
	return int(n)
}
