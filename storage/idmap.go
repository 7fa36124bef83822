package storage

import "github.com/smppd/smppd/msg"

// ConnectorIDs is an UpstreamIDs seen as a connector.IDMap, whose
// PutUpstream returns nothing: a connector learns an upstream id after
// the upstream took the message and can do nothing about a write that
// fails. Failed (nil: ignored) gets such a failure to count and log; the
// receipt that needed the id is dropped as unknown later (the hub counts
// those).
type ConnectorIDs struct {
	IDs    UpstreamIDs
	Failed func(connector int, upstreamID []byte, err error)
}

// PutUpstream records connector's upstreamID as our id.
func (c ConnectorIDs) PutUpstream(connector int, upstreamID []byte, id msg.ID) {
	if err := c.IDs.PutUpstream(connector, upstreamID, id); err != nil && c.Failed != nil {
		c.Failed(connector, upstreamID, err)
	}
}

// Upstream finds our id for connector's upstreamID.
func (c ConnectorIDs) Upstream(connector int, upstreamID []byte) (msg.ID, bool) {
	return c.IDs.Upstream(connector, upstreamID)
}
