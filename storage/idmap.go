package storage

import "github.com/smppd/smppd/msg"

// ConnectorIDs is an UpstreamIDs seen as a connector.IDMap. A connector
// learns an upstream id after the upstream took the message: on a write
// that fails it keeps the id in memory and tries again (connector.IDMap).
// Failed (nil: ignored) also gets each failure, to log.
type ConnectorIDs struct {
	IDs    UpstreamIDs
	Failed func(connector int, upstreamID []byte, err error)
}

// PutUpstream records connector's upstreamID as our id.
func (c ConnectorIDs) PutUpstream(connector int, upstreamID []byte, id msg.ID) error {
	err := c.IDs.PutUpstream(connector, upstreamID, id)
	if err != nil && c.Failed != nil {
		c.Failed(connector, upstreamID, err)
	}
	return err
}

// Upstream finds our id for connector's upstreamID.
func (c ConnectorIDs) Upstream(connector int, upstreamID []byte) (msg.ID, bool) {
	return c.IDs.Upstream(connector, upstreamID)
}
