package flow

// PurgeQueue fails what waits in the named connector's queue now
// (refunded, receipts to the ESMEs that asked for one) and returns how
// many: the operator's purge of a connector whose upstream is down. What
// the connector already holds stays (connector.Runtime.PurgeQueued).
// ErrUnknownConnector, ErrNotRestartable.
func (h *Hub) PurgeQueue(name string) (int, error) {
	r, err := h.restartable(name)
	if err != nil {
		return 0, err
	}
	n, err := r.PurgeQueued()
	if err == nil && n > 0 {
		h.log.Warn().Str("event", "queue_purged").Str("connector", name).Int("messages", n).
			Msg("connector queue purged by operator: its messages failed")
	}
	return n, err
}
