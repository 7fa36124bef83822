package flow

import (
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

// MORoutes are the MO routes of the table in force, as the delivery side
// asks for them (delivery.MORouter): the router holds MT and MO routes
// together, and the wiring hands the hub's router to both directions.
type MORoutes struct{ Router *routing.Router }

// RouteMO returns the user the first matching MO route names.
func (m MORoutes) RouteMO(in *msg.Inbound, content []byte, now time.Time) (string, bool) {
	user, _, ok := m.Router.Load().RouteMO(&routing.MO{Connector: in.Connector, Source: in.Source, Dest: in.Dest,
		Content: content, DataCoding: in.DataCoding, Now: now})
	return user, ok
}
