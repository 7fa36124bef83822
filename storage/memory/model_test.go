package memory

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// model is the obvious reference for Messages and UpstreamIDs: per shard, a
// slice in insertion order and a map. It uses the store's own shard choice
// (which the interface leaves unspecified) so eviction can be compared
// exactly.
type model struct {
	t    testing.TB
	s    *Store
	clk  *fakeClock
	ttl  int64
	recs map[*recTable]*modelShard[msg.ID, storage.Record]
	ups  map[*upTable]*modelShard[upKey, upVal]
}

type upKey struct {
	conn int
	key  string
}

type upVal struct {
	id msg.ID
	at int64
}

// modelShard keeps keys in insertion order; a key deleted out of order
// stays in order, gone, taking its room until it is the oldest (as the
// store's dead slots do).
type modelShard[K comparable, V any] struct {
	order []K
	gone  []bool
	m     map[K]V
	max   int
}

func (ms *modelShard[K, V]) put(k K, v V) (evicted bool) {
	if _, ok := ms.m[k]; !ok {
		if len(ms.order) == ms.max {
			evicted = ms.dropOldest()
		}
		ms.order = append(ms.order, k)
		ms.gone = append(ms.gone, false)
	}
	ms.m[k] = v
	return evicted
}

// dropOldest removes the oldest key and reports whether it was not gone.
func (ms *modelShard[K, V]) dropOldest() bool {
	live := !ms.gone[0]
	if live {
		delete(ms.m, ms.order[0])
	}
	ms.order, ms.gone = ms.order[1:], ms.gone[1:]
	return live
}

func (ms *modelShard[K, V]) remove(k K) bool {
	if _, ok := ms.m[k]; !ok {
		return false
	}
	delete(ms.m, k)
	last := len(ms.order) - 1
	if ms.order[last] == k {
		ms.order, ms.gone = ms.order[:last], ms.gone[:last]
		return true
	}
	for i, o := range ms.order {
		if o == k && !ms.gone[i] {
			ms.gone[i] = true
		}
	}
	return true
}

func (ms *modelShard[K, V]) sweep(expired func(V) bool) int {
	n := 0
	for len(ms.order) > 0 && (ms.gone[0] || expired(ms.m[ms.order[0]])) {
		if ms.dropOldest() {
			n++
		}
	}
	return n
}

func (ms *modelShard[K, V]) len() int { return len(ms.m) }

func newModel(t testing.TB, maxRecs, maxUps int, maxBits uint) *model {
	clk := newClock()
	md := &model{
		t: t, clk: clk, ttl: int64(time.Hour),
		s:    newStore(Options{MaxRecords: maxRecs, MaxUpstream: maxUps, TTL: time.Hour, Now: clk.now}, maxBits),
		recs: map[*recTable]*modelShard[msg.ID, storage.Record]{},
		ups:  map[*upTable]*modelShard[upKey, upVal]{},
	}
	return md
}

func (md *model) recShard(id msg.ID) *modelShard[msg.ID, storage.Record] {
	sh, _ := md.s.recHash(id)
	ms := md.recs[sh]
	if ms == nil {
		ms = &modelShard[msg.ID, storage.Record]{m: map[msg.ID]storage.Record{}, max: sh.max}
		md.recs[sh] = ms
	}
	return ms
}

func (md *model) upShard(k upKey) *modelShard[upKey, upVal] {
	sh, _ := md.s.upHash(k.conn, []byte(k.key))
	ms := md.ups[sh]
	if ms == nil {
		ms = &modelShard[upKey, upVal]{m: map[upKey]upVal{}, max: sh.max}
		md.ups[sh] = ms
	}
	return ms
}

func (md *model) expired(at int64) bool { return md.clk.now()-at > md.ttl }

// step applies one operation chosen by the bytes op and a, b to both the
// store and the model, and compares what they say.
func (md *model) step(op, a, b byte) {
	t, s := md.t, md.s
	id := msg.ID(a % 48)
	now := md.clk.now()
	switch op % 9 {
	case 0, 1: // Put, submitted up to ~2 TTLs ago (0: stamped by Put)
		sub := now - int64(b)*int64(time.Hour)/100
		if b == 255 {
			sub = 0
		}
		r := rec(id, sub)
		r.State = msg.State(b%8 + 1)
		if err := s.Put(&r); err != nil {
			t.Fatal(err)
		}
		if sub == 0 {
			r.Submitted = now
		}
		md.recShard(id).put(id, r)
	case 2: // Get
		var got storage.Record
		ok := s.Get(id, &got) == nil
		want, wok := md.recShard(id).m[id]
		wok = wok && !md.expired(want.Submitted)
		if ok != wok || (ok && got != want) {
			t.Fatalf("Get(%v) = %v %+v; model %v %+v", id, ok, got, wok, want)
		}
	case 3: // SetState
		ms := md.recShard(id)
		want, wok := ms.m[id]
		wok = wok && !md.expired(want.Submitted)
		st, code, done := msg.State(b%8+1), uint16(b), now+int64(b)
		err := s.SetState(id, st, code, done)
		if wok && want.State.Final() { // the first final state wins
			if !errors.Is(err, storage.ErrFinal) {
				t.Fatalf("SetState(%v) on a final record = %v", id, err)
			}
			break
		}
		if ok := err == nil; ok != wok {
			t.Fatalf("SetState(%v) = %v; model %v", id, ok, wok)
		}
		if wok {
			want.State, want.Err, want.Done = st, code, done
			ms.m[id] = want
		}
	case 4: // Delete (whatever its age: an expired record goes too)
		ok := s.Delete(id) == nil
		if wok := md.recShard(id).remove(id); ok != wok {
			t.Fatalf("Delete(%v) = %v; model %v", id, ok, wok)
		}
	case 5: // time passes, sometimes a sweep
		md.clk.advance(time.Duration(b) * time.Hour / 200)
		if b%2 == 0 {
			n := 0
			for _, ms := range md.recs {
				n += ms.sweep(func(r storage.Record) bool { return md.expired(r.Submitted) })
			}
			for _, ms := range md.ups {
				n += ms.sweep(func(v upVal) bool { return md.expired(v.at) })
			}
			if got := s.Sweep(md.clk.now()); got != n {
				t.Fatalf("Sweep reclaimed %d; model %d", got, n)
			}
		}
	case 6: // PutUpstream
		k := upKey{int(b % 3), string(rune('a' + a%40))}
		if err := s.PutUpstream(k.conn, []byte(k.key), id); err != nil {
			t.Fatal(err)
		}
		md.upShard(k).put(k, upVal{id, now})
	case 7: // Upstream
		k := upKey{int(b % 3), string(rune('a' + a%40))}
		got, ok := s.Upstream(k.conn, []byte(k.key))
		v, wok := md.upShard(k).m[k]
		wok = wok && !md.expired(v.at)
		if ok != wok || (ok && got != v.id) {
			t.Fatalf("Upstream(%v) = %v %v; model %v %v", k, got, ok, v.id, wok)
		}
	case 8: // sizes
		n, u := 0, 0
		for _, ms := range md.recs {
			n += ms.len()
		}
		for _, ms := range md.ups {
			u += ms.len()
		}
		if s.Len() != n || s.UpstreamLen() != u {
			t.Fatalf("Len %d UpstreamLen %d; model %d %d", s.Len(), s.UpstreamLen(), n, u)
		}
	}
}

func runModel(t testing.TB, ops []byte, maxRecs, maxUps int, maxBits uint) {
	md := newModel(t, maxRecs, maxUps, maxBits)
	for i := 0; i+3 <= len(ops); i += 3 {
		md.step(ops[i], ops[i+1], ops[i+2])
	}
	for id := msg.ID(0); id < 48; id++ { // final full comparison
		md.step(2, byte(id), 0)
	}
	md.step(8, 0, 0)
}

func TestModelRandom(t *testing.T) {
	configs := []struct {
		recs, ups int
		bits      uint
	}{
		{10, 7, 6},  // one shard each, heavy eviction
		{40, 40, 6}, // two shards of 20
		{30, 30, 0}, // one shard
		{200, 200, 0},
		{1 << 20, 1 << 20, 6}, // no eviction: TTL only
	}
	for ci, c := range configs {
		rng := rand.New(rand.NewPCG(uint64(ci), 99))
		for round := 0; round < 20; round++ {
			ops := make([]byte, 3*3000)
			for i := range ops {
				ops[i] = byte(rng.Uint32())
			}
			runModel(t, ops, c.recs, c.ups, c.bits)
		}
	}
}

// TestModelGrowth drives a single shard with ids far apart through several
// growth steps while sweeps move its head, comparing with the model.
func TestModelGrowth(t *testing.T) {
	md := newModel(t, 700, 700, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20_000; i++ {
		id := msg.ID(rng.Uint64N(900))
		switch rng.IntN(10) {
		case 0:
			md.clk.advance(time.Duration(rng.IntN(20)) * time.Minute)
			md.step(5, 0, 0) // sweep
		case 1, 2:
			var got storage.Record
			want, wok := md.recShard(id).m[id]
			wok = wok && !md.expired(want.Submitted)
			if ok := md.s.Get(id, &got) == nil; ok != wok || (ok && got != want) {
				t.Fatalf("Get(%v) = %v; model %v", id, ok, wok)
			}
		case 3:
			if ok, wok := md.s.Delete(id) == nil, md.recShard(id).remove(id); ok != wok {
				t.Fatalf("Delete(%v) = %v; model %v", id, ok, wok)
			}
		default:
			r := rec(id, md.clk.now())
			if err := md.s.Put(&r); err != nil {
				t.Fatal(err)
			}
			md.recShard(id).put(id, r)
		}
	}
	md.step(8, 0, 0)
}

func FuzzMessages(f *testing.F) {
	f.Add([]byte{0, 1, 2, 2, 1, 0, 3, 1, 5, 4, 1, 2, 5, 0, 250, 2, 1, 0, 8, 0, 0})
	f.Add(binary.LittleEndian.AppendUint64(nil, 0x0605040302010009))
	f.Fuzz(func(t *testing.T, ops []byte) {
		runModel(t, ops, 10, 7, 6)
		runModel(t, ops, 40, 40, 6)
	})
}
