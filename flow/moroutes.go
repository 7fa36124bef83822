package flow

import (
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

// moRoutes gives the delivery side the MO routes of the current table.
type moRoutes struct{ r *routing.Router }

// RouteMO implements delivery.MORouter.
func (m moRoutes) RouteMO(in *msg.Inbound, content []byte, now time.Time) (string, bool) {
	user, _, ok := m.r.Load().RouteMO(&routing.MO{Connector: in.Connector, Source: in.Source, Dest: in.Dest,
		Content: content, DataCoding: in.DataCoding, Now: now})
	return user, ok
}
