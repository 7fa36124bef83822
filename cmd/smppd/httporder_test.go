package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/smppd/smppd/storage/disk/wal"
)

// slowSyncFS is the operating system's file layer with every fsync taking
// d longer: a slow disk, so a group commit outlasts the simulator's answer
// and the callback it makes.
type slowSyncFS struct {
	wal.OSFS
	d time.Duration
}

func (f slowSyncFS) OpenFile(name string, flag int) (wal.File, error) {
	fl, err := f.OSFS.OpenFile(name, flag)
	if err != nil {
		return nil, err
	}
	return slowSyncFile{File: fl, d: f.d}, nil
}

type slowSyncFile struct {
	wal.File
	d time.Duration
}

func (f slowSyncFile) Sync() error {
	time.Sleep(f.d)
	return f.File.Sync()
}

// TestSendCallbackAfterItsAnswer: on the demo config (disk store, sync =
// "always") with a slow fsync and the simulator answering at once, the
// /send response carrying a message's id is in its client's socket before
// the message's level-1 dlr-url callback reaches the receiver: the message
// goes to its connector only once the response, sent after the commit,
// is written (flow.Hub.Release). The client reads nothing until the
// callback arrives, then looks (without waiting) whether the response is
// there. Before, the connector had the message at the submit, and its
// callback came a whole fsync before the answer.
func TestSendCallbackAfterItsAnswer(t *testing.T) {
	storeFS = slowSyncFS{d: 5 * time.Millisecond}
	t.Cleanup(func() { storeFS = nil })

	got := make(chan string, 64)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query().Get("id")
	}))
	defer recv.Close()

	cfgPath, usersPath, _, _ := demoDir(t)
	users, err := os.ReadFile(usersPath)
	must(t, err)
	u := strings.Replace(string(users), "throughput = 100.0", "throughput = 100000.0", 1)
	must(t, os.WriteFile(usersPath, []byte(u), 0o600))
	_, cfg, _ := runConfig(t, cfgPath)

	addr := "127.0.0.1:" + strconv.Itoa(cfg.HTTPAPI.Port)
	var conn net.Conn
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if conn, err = net.Dial("tcp", addr); err == nil || time.Now().After(deadline) {
			break // the listener starts with the daemon
		}
	}
	must(t, err)
	defer conn.Close()
	br := bufio.NewReader(conn)
	const n = 40
	for i := range n {
		q := url.Values{"username": {"demo"}, "password": {"demopass"}, "to": {"4915112345678"},
			"content": {"order " + strconv.Itoa(i)}, "dlr-url": {recv.URL + "/dlr"}, "dlr-level": {"1"}, "dlr-method": {"GET"}}
		_, err := io.WriteString(conn, "GET /send?"+q.Encode()+" HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
		must(t, err)
		var id string
		select {
		case id = <-got:
		case <-time.After(10 * time.Second):
			t.Fatalf("/send %d: no callback", i)
		}
		if !pending(t, conn) {
			t.Fatalf("/send %d: the callback for %s reached the dlr-url before the response carrying its id reached the client", i, id)
		}
		res, err := http.ReadResponse(br, nil)
		must(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || string(body) != `Success "`+id+`"` {
			t.Fatalf("/send %d: %s %q, callback for %s", i, res.Status, body, id)
		}
	}
}

// pending reports, without waiting, whether c has octets to read.
func pending(t *testing.T, c net.Conn) bool {
	t.Helper()
	rc, err := c.(*net.TCPConn).SyscallConn()
	must(t, err)
	var n int
	var b [1]byte
	must(t, rc.Read(func(fd uintptr) bool {
		n, _, err = unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		return true // never wait
	}))
	if err != nil && err != unix.EAGAIN {
		t.Fatal(err)
	}
	return n > 0
}
