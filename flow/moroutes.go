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

// RouteMO returns the user the first matching MO route names, or, for a
// route that names a url, the route's name as push.
func (m MORoutes) RouteMO(in *msg.Inbound, content []byte, now time.Time) (user, push string, ok bool) {
	user, r, ok := m.Router.Load().RouteMO(&routing.MO{Connector: in.Connector, Source: in.Source, Dest: in.Dest,
		Content: content, DataCoding: in.DataCoding, Now: now})
	if ok && r.URL != "" {
		return "", r.Name, true
	}
	return user, "", ok
}
