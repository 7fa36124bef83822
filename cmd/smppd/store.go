package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// idFloorBlock is how many id slots (2048 ids each) the persisted floor
// runs ahead of the ids issued: one store write per million ids or so, and
// a restart after a clock step starts at most that many milliseconds
// beyond the last run's ids.
const idFloorBlock = 1024

// newIDs starts the message-id generator above the floor the store kept
// from earlier runs, and has it keep the next block's floor in the store
// before issuing any id of it. A floor the store refuses (a full disk) is
// logged, throttled: ids go on, and only a clock step back between runs
// could then repeat one.
func newIDs(node int, st storage.Store, log zerolog.Logger) (*msg.IDGen, error) {
	floor := st.IDFloor()
	ids, err := msg.NewIDGenAbove(node, floor)
	if err != nil {
		return nil, err
	}
	gate := logthrottle.New(10*time.Second, 1)
	ids.KeepFloor(idFloorBlock, func(v uint64) {
		if err := st.SetIDFloor(v); err != nil {
			gate.Event(&log, zerolog.ErrorLevel, time.Now().UnixNano()).Str("event", "storage").Err(err).
				Msg("message-id floor not written: ids are unique unless the clock steps back before the next start")
		}
	})
	if floor != 0 {
		log.Info().Str("event", "start").Str("id_floor", msg.ID(floor).String()).Msg("message ids continue above the persisted floor")
	}
	return ids, nil
}

// storeReady is the store's half of GET /v1/ready: not ready while new
// submits are refused for a full disk or a failed device.
func storeReady(st storage.Stats) error {
	switch {
	case st.DeviceFailed:
		return errors.New("storage: the device failed a write or an fsync; submits are refused ESME_RMSGQFUL")
	case st.DiskFull:
		return fmt.Errorf("storage: disk full (%d of max_disk %d bytes used); submits are refused ESME_RMSGQFUL", st.BytesUsed, st.MaxDisk)
	}
	return nil
}
