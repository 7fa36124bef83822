package jetstream

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/storagetest"
)

const testStream, testSubject = "SMPPD_JOURNAL", "smppd.journal.7"

// servers keeps each case's JetStream server (by the case's Dir) across
// the case's reopens: a reopen rebuilds the index from the journal.
var servers sync.Map

// testJS returns a JetStream context on the case's in-process server
// (started on first use, stopped at the case's end) with the journal.
func testJS(t *testing.T, dir string) (natsjs.JetStream, *nats.Conn) {
	t.Helper()
	v, ok := servers.Load(dir)
	if !ok {
		srv, err := server.NewServer(&server.Options{JetStream: true, StoreDir: filepath.Join(dir, "js"), DontListen: true, NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		go srv.Start()
		if !srv.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats server did not start")
		}
		servers.Store(dir, srv)
		t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown(); servers.Delete(dir) })
		v = srv
	}
	nc, err := nats.Connect("", nats.InProcessServer(v.(*server.Server)))
	if err != nil {
		t.Fatal(err)
	}
	js, err := natsjs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateStream(ctx, natsjs.StreamConfig{Name: testStream, Subjects: []string{"smppd.journal.*", "smppd.base.*"},
		Storage: natsjs.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	return js, nc
}

// connStore closes its connection after the store (the harness closes the
// store in a cleanup that runs after any registered at a reopen).
type connStore struct {
	*Store
	nc *nats.Conn
}

func (c connStore) Close() error {
	err := c.Store.Close()
	c.nc.Close()
	return err
}

func openTest(t *testing.T, c storagetest.Config, node int) connStore {
	t.Helper()
	js, nc := testJS(t, c.Dir)
	s, err := Open(Options{JS: js, Stream: testStream, Subject: testSubject, Node: node, Dir: c.Dir,
		TTL: c.TTL, MaxHeld: c.MaxHeld, HeldShare: c.HeldShare, MaxDeadLetters: c.MaxDeadLetters, Now: c.Now,
		ReplayTimeout: 20 * time.Second, Logger: testLogger()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return connStore{s, nc}
}

// TestConformance runs the storage seam's suite, the durable cases
// included (each reopen replays the journal into a new index), against
// the JetStream store. The suite's ids carry node 7.
func TestConformance(t *testing.T) {
	storagetest.RunDurable(t, func(t *testing.T, c storagetest.Config) storage.Store { return openTest(t, c, 7) })
}

func testLogger() zerolog.Logger {
	if testing.Verbose() {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.DebugLevel)
	}
	return zerolog.Nop()
}
