package crash

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
)

const (
	queryWindow = 64
	queryLimit  = 60 * time.Second // the whole sweep
)

// queried is one query_sm answer.
type queried struct {
	status codec.Status
	state  codec.MessageState
}

// querySweep sends query_sm for every id (source crashSource) over one
// transmitter bind, queryWindow at a time, and returns the answers.
func querySweep(ctx context.Context, addr string, ids []string) (map[string]queried, error) {
	ctx, cancel := context.WithTimeout(ctx, queryLimit)
	defer cancel()
	w, err := dialSMPP(ctx, addr)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if err := w.Bind(codec.BindTransmitterID, crashUser, crashPass); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { w.Close() })
	defer stop()

	var mu sync.Mutex
	asked := make(map[uint32]string)
	got := make(map[string]queried, len(ids))
	slots := make(chan struct{}, queryWindow)
	dead := make(chan error, 1)
	go func() {
		var resp codec.QuerySMResp
		for {
			h, f, err := w.Read()
			if err != nil {
				dead <- err
				return
			}
			switch h.CommandID {
			case codec.QuerySMRespID, codec.GenericNackID:
				mu.Lock()
				id, ok := asked[h.Sequence]
				delete(asked, h.Sequence)
				if ok {
					q := queried{status: h.Status}
					if h.Status == codec.StatusOK && resp.Decode(f[codec.HeaderLen:]) == nil {
						q.state = resp.MessageState
					}
					got[id] = q
				}
				done := len(got) == len(ids)
				mu.Unlock()
				if ok {
					<-slots
				}
				if done {
					dead <- nil
					return
				}
			default:
				if _, end := w.Housekeeping(h); end {
					dead <- fmt.Errorf("smppd unbound the query session")
					return
				}
			}
		}
	}()
	if len(ids) == 0 {
		return got, nil
	}
	q := codec.QuerySM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte(crashSource)}
	for _, id := range ids {
		select {
		case slots <- struct{}{}:
		case err := <-dead:
			return got, fmt.Errorf("query session ended after %d of %d answers: %v", len(got), len(ids), err)
		}
		q.MessageID = []byte(id)
		if _, err := w.Send(codec.QuerySMID, q.Append, func(seq uint32) {
			mu.Lock()
			asked[seq] = id
			mu.Unlock()
		}); err != nil {
			return got, err
		}
	}
	if err := <-dead; err != nil {
		mu.Lock()
		defer mu.Unlock()
		return got, fmt.Errorf("query session ended after %d of %d answers: %v", len(got), len(ids), err)
	}
	_, _ = w.Send(codec.UnbindID, nil, nil)
	return got, nil
}
