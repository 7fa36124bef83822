package clustertest

import (
	"context"

	"github.com/smppd/smppd/internal/proctest"
)

// wire is one SMPP client connection to a node.
type wire = proctest.Conn

const ioTimeout = proctest.IOTimeout

func dial(addr string) (*wire, error) { return proctest.Dial(context.Background(), addr) }
