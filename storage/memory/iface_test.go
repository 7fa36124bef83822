package memory

import (
	"github.com/smppd/smppd/storage"
)

// The package may import only storage and msg; the connector.IDMap view
// of the upstream map is cmd/smppd's (it logs the errors IDMap drops).
var (
	_ storage.Store = (*Store)(nil)
	_ storage.Holds = (*Holds)(nil)
)
