package memory

import (
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/storage"
)

// The package may import only storage and msg, so the connector.IDMap
// assertion lives here.
var (
	_ storage.Messages                  = (*Store)(nil)
	_ storage.UpstreamIDs               = (*Store)(nil)
	_ connector.IDMap                   = (*Store)(nil)
	_ storage.Holds                     = (*Holds)(nil)
	_ interface{ Sweep(now int64) int } = (*Store)(nil) // flow.Sweeper
)
