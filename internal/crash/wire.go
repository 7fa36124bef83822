package crash

import (
	"context"
	"net"
	"time"

	"github.com/smppd/smppd/internal/proctest"
)

// wire is one SMPP connection, ours to smppd or smppd's to the stub.
type wire = proctest.Conn

type encoder = proctest.Encoder

func newWire(c net.Conn) *wire { return proctest.NewConn(c) }

// dialSMPP connects to addr on loopback.
func dialSMPP(ctx context.Context, addr string) (*wire, error) { return proctest.Dial(ctx, addr) }

func sleepCtx(ctx context.Context, d time.Duration) { proctest.Sleep(ctx, d) }
