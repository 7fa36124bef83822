package cluster

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// AccountsBucket holds the cluster's users, groups, balance and quota
// pools and each node's credit leases (docs/CLUSTER.md, ADR 0004):
//
//	seed                      "pending <node>" while a node seeds an empty bucket, then "done <node>"
//	user.<system_id b64url>   a user (JSON, written by cmd/smppd), without balance or quota_used
//	group.<name b64url>       a group (JSON)
//	pool.<account b64url>     "<epoch> <amount>" or "<epoch> unlimited": what no node has borrowed
//	lease.<node>.<account>    "<epoch> <amount>": that node's unspent slice, as it last wrote it
//
// An account is a system_id (its balance, micro-units) or
// accounts.QuotaAccount (its quota, parts).
const AccountsBucket = "smppd_accounts"

const seedKey = "seed"

// Pool is one account's shared pool. Epoch grows with every set: a slice
// borrowed under an older epoch is void.
type Pool struct {
	Epoch     uint64
	Amount    int64
	Unlimited bool
}

func (p Pool) String() string {
	if p.Unlimited {
		return strconv.FormatUint(p.Epoch, 10) + " unlimited"
	}
	return strconv.FormatUint(p.Epoch, 10) + " " + strconv.FormatInt(p.Amount, 10)
}

func parsePool(s string) (Pool, bool) {
	es, as, ok := strings.Cut(s, " ")
	if !ok {
		return Pool{}, false
	}
	e, err := strconv.ParseUint(es, 10, 64)
	if err != nil {
		return Pool{}, false
	}
	if as == "unlimited" {
		return Pool{Epoch: e, Unlimited: true}, true
	}
	a, err := strconv.ParseInt(as, 10, 64)
	if err != nil || a < 0 {
		return Pool{}, false
	}
	return Pool{Epoch: e, Amount: a}, true
}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func dec(s string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return string(b), err == nil
}

func userKey(id string) string    { return "user." + enc(id) }
func groupKey(name string) string { return "group." + enc(name) }
func poolKey(acct string) string  { return "pool." + enc(acct) }
func leaseKey(node int, acct string) string {
	return "lease." + strconv.Itoa(node) + "." + enc(acct)
}

// Local is this node's side of the credit leases (accounts.Store): the
// live counters that hold its unspent slices.
type Local interface {
	// Held is this node's unspent slice of account; ok false when the
	// account is unknown or unlimited here.
	Held(account string) (int64, bool)
	// Lend adds n to the slice; false: not taken (unknown or unlimited).
	Lend(account string, n int64) bool
	// Withdraw takes up to n of the slice and returns what it took.
	Withdraw(account string, n int64) int64
}

// Directory is the cluster's users and groups as the watch last saw
// them: raw values by system_id and group name.
type Directory struct {
	Users  map[string][]byte
	Groups map[string][]byte
}

// Errors of the pool operations.
var (
	// ErrNoPool: the account has no pool in the bucket.
	ErrNoPool = errors.New("cluster: no pool for this account")
	// ErrPoolUnlimited: a top-up of an unlimited pool.
	ErrPoolUnlimited = errors.New("cluster: the pool is unlimited")
	// ErrNotSeeded: the bucket's seed did not complete within the join
	// timeout.
	ErrNotSeeded = errors.New("cluster: accounts bucket not seeded")
)

// Accounts keeps the cluster's users, groups, balances and quotas in
// AccountsBucket: a watch keeps a local copy and hands every change of
// users or groups to the apply function (accounts.Store.ApplyShared
// through cmd/smppd), and a lender keeps this node's slices of the pools
// (credit.go).
type Accounts struct {
	n     *Node
	kv    jetstream.KeyValue
	local Local
	apply func(Directory) error

	mu      sync.Mutex
	cond    *sync.Cond
	users   map[string][]byte
	groups  map[string][]byte
	pools   map[string]Pool
	leases  map[string]map[int]Pool // account -> other node -> its slice as it last wrote it
	applied uint64                  // the bucket revision this node has applied
	ready   bool                    // the watch delivered the bucket's initial values

	mine  map[string]*slice // this node's slices (credit.go)
	live  atomic.Int32      // live nodes, from the membership bucket
	short chan shortReq

	borrows, returns, reclaimed, voided atomic.Uint64

	stop chan struct{}
	done sync.WaitGroup
}

// OpenAccounts opens the accounts bucket (created if missing). Nothing
// runs until Start.
func (n *Node) OpenAccounts() (*Accounts, error) {
	cfg := jetstream.KeyValueConfig{Bucket: AccountsBucket, History: 1, Storage: jetstream.FileStorage,
		Replicas: n.o.Replicas, Description: "smppd users, groups, balance and quota pools, credit leases"}
	ctx, cancel := context.WithTimeout(context.Background(), n.o.JoinTimeout)
	defer cancel()
	kv, err := n.bucket(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &Accounts{n: n, kv: kv, users: map[string][]byte{}, groups: map[string][]byte{}, pools: map[string]Pool{},
		leases: map[string]map[int]Pool{}, mine: map[string]*slice{}, short: make(chan shortReq, 1024),
		stop: make(chan struct{})}
	a.cond = sync.NewCond(&a.mu)
	a.live.Store(1)
	return a, nil
}

// Seed fills an empty bucket with users, groups and pools (values by
// system_id, group name and account), once cluster-wide: the node whose
// create of the seed marker succeeds writes them, the others wait for it
// to finish. A seeder that died half-way (its membership key gone) is
// taken over; keys already written are kept. It reports whether this node
// seeded.
func (a *Accounts) Seed(users, groups map[string][]byte, pools map[string]Pool) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), a.n.o.JoinTimeout)
	defer cancel()
	me := strconv.Itoa(a.n.o.NodeID)
	rev, err := a.kv.Create(ctx, seedKey, []byte("pending "+me))
	for err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return false, fmt.Errorf("cluster: seed %s: %w", AccountsBucket, err)
		}
		e, gerr := a.kv.Get(ctx, seedKey)
		if errors.Is(gerr, jetstream.ErrKeyNotFound) && ctx.Err() == nil {
			// A replica behind the create that failed (reads may be served by
			// any replica): ask again.
			time.Sleep(50 * time.Millisecond)
			rev, err = a.kv.Create(ctx, seedKey, []byte("pending "+me))
			continue
		}
		if gerr != nil {
			return false, fmt.Errorf("cluster: read %s seed: %w", AccountsBucket, gerr)
		}
		state, holder, _ := strings.Cut(string(e.Value()), " ")
		if state == "done" {
			return false, nil
		}
		if holder == me || !a.isLive(ctx, holder) {
			rev, err = a.kv.Update(ctx, seedKey, []byte("pending "+me), e.Revision())
			if err == nil {
				a.n.lg.Warn().Str("event", "accounts_seed_takeover").Str("seeder", holder).
					Msg("cluster: the node seeding the accounts bucket is gone; this node finishes the seed")
			} else if isWrongSequence(err) {
				err = jetstream.ErrKeyExists // another node took it over first: wait for it
			}
			continue
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("%w: node %s is still seeding after join_timeout %v", ErrNotSeeded, holder, a.n.o.JoinTimeout)
		case <-time.After(200 * time.Millisecond):
		}
		err = jetstream.ErrKeyExists
	}
	put := func(k string, v []byte) error {
		if _, err := a.kv.Create(ctx, k, v); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("cluster: seed %s: %w", k, err)
		}
		return nil
	}
	for name, v := range groups {
		if err := put(groupKey(name), v); err != nil {
			return false, err
		}
	}
	for acct, p := range pools { // before the users: a user never applies without its pools
		if err := put(poolKey(acct), []byte(p.String())); err != nil {
			return false, err
		}
	}
	for id, v := range users {
		if err := put(userKey(id), v); err != nil {
			return false, err
		}
	}
	if _, err := a.kv.Update(ctx, seedKey, []byte("done "+me), rev); err != nil {
		return false, fmt.Errorf("cluster: mark %s seeded: %w", AccountsBucket, err)
	}
	a.n.lg.Info().Str("event", "accounts_seeded").Int("users", len(users)).Int("groups", len(groups)).
		Msg("cluster: the accounts bucket was empty; seeded from this node's users file")
	return true, nil
}

// isLive reports whether node (its id as text) holds a membership key.
func (a *Accounts) isLive(ctx context.Context, node string) bool {
	_, err := a.n.nodes.Get(ctx, node)
	return err == nil
}

// Start watches the bucket: the initial values are applied (apply is
// called with the whole directory) before Start returns, and every later
// change of users, groups or a pool's kind (limited or not) is applied
// again once the watch has caught up. local holds this node's slices.
// It also starts the lender (credit.go). Close stops both.
func (a *Accounts) Start(local Local, apply func(Directory) error) error {
	a.local, a.apply = local, apply
	// This node's slices of an earlier run (killed, back before a
	// take-over reclaimed them) go back to their pools first: this run
	// starts with none.
	a.Reclaim(a.n.o.NodeID)
	w, err := a.kv.WatchAll(context.Background())
	if err != nil {
		return fmt.Errorf("cluster: watch %s: %w", AccountsBucket, err)
	}
	first := make(chan error, 1)
	a.done.Add(2)
	go a.watch(w, first)
	go a.lend()
	select {
	case err = <-first:
	case <-time.After(a.n.o.JoinTimeout):
		err = fmt.Errorf("cluster: %s not read within join_timeout %v", AccountsBucket, a.n.o.JoinTimeout)
	}
	if err == nil {
		// The watch's consumer may read from a replica behind the leader:
		// wait until it passed what the leader holds now.
		err = a.catchUp()
	}
	if err != nil {
		a.Close()
	}
	return err
}

// catchUp waits until this node applied the bucket up to the stream's
// last sequence as its leader reports it.
func (a *Accounts) catchUp() error {
	ctx, cancel := context.WithTimeout(context.Background(), a.n.o.JoinTimeout)
	defer cancel()
	st, err := a.kv.Status(ctx)
	if err != nil {
		return fmt.Errorf("cluster: %s status: %w", AccountsBucket, err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return nil
	}
	return a.WaitApplied(bs.StreamInfo().State.LastSeq)
}

func (a *Accounts) watch(w jetstream.KeyWatcher, firstErr chan<- error) {
	defer a.done.Done()
	defer func() { _ = w.Stop() }()
	dirty, started := false, false
	var last uint64
	for {
		select {
		case <-a.stop:
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				started = true
			} else {
				last = e.Revision()
				dirty = a.take(e) || dirty
			}
			if !started || len(w.Updates()) > 0 {
				continue // apply once per burst of changes
			}
			var err error
			if dirty {
				err = a.applyNow()
				dirty = false
			}
			a.mu.Lock()
			a.applied = max(a.applied, last)
			first := !a.ready
			a.ready = true
			a.cond.Broadcast()
			a.mu.Unlock()
			if first {
				if err != nil {
					err = fmt.Errorf("cluster: the accounts bucket's users do not load: %w", err)
				}
				firstErr <- err // buffered, sent once
			}
		}
	}
}

// take records one entry of the bucket and reports whether the users
// must be applied again.
func (a *Accounts) take(e jetstream.KeyValueEntry) bool {
	del := e.Operation() != jetstream.KeyValuePut
	kind, rest, _ := strings.Cut(e.Key(), ".")
	a.mu.Lock()
	defer a.mu.Unlock()
	switch kind {
	case "user", "group":
		name, ok := dec(rest)
		if !ok {
			return false
		}
		m := a.users
		if kind == "group" {
			m = a.groups
		}
		if del {
			delete(m, name)
		} else {
			m[name] = append([]byte(nil), e.Value()...)
		}
		return true
	case "pool":
		acct, ok := dec(rest)
		if !ok {
			return false
		}
		old, had := a.pools[acct]
		if del {
			delete(a.pools, acct)
			return had
		}
		p, ok := parsePool(string(e.Value()))
		if !ok {
			return false
		}
		a.pools[acct] = p
		if s := a.mine[acct]; s != nil && had && p.Epoch != old.Epoch {
			s.voidAfter(p.Epoch) // a set: this node's slice of the old balance is void
		}
		return !had || old.Unlimited != p.Unlimited
	case "lease":
		ns, enc, _ := strings.Cut(rest, ".")
		node, err := strconv.Atoi(ns)
		acct, ok := dec(enc)
		if err != nil || !ok || node == a.n.o.NodeID {
			return false
		}
		if del {
			if m := a.leases[acct]; m != nil {
				delete(m, node)
				if len(m) == 0 {
					delete(a.leases, acct)
				}
			}
			return false
		}
		if p, ok := parsePool(string(e.Value())); ok {
			if a.leases[acct] == nil {
				a.leases[acct] = map[int]Pool{}
			}
			a.leases[acct][node] = p
		}
	}
	return false
}

// applyNow hands the directory to apply.
func (a *Accounts) applyNow() error {
	a.mu.Lock()
	d := Directory{Users: make(map[string][]byte, len(a.users)), Groups: make(map[string][]byte, len(a.groups))}
	for k, v := range a.users {
		d.Users[k] = v
	}
	for k, v := range a.groups {
		d.Groups[k] = v
	}
	a.mu.Unlock()
	err := a.apply(d)
	if err != nil {
		a.n.lg.Error().Err(err).Str("event", "accounts_apply_failed").
			Msg("cluster: the users in the cluster do not load; the previous users stay in force on this node")
	}
	return err
}

// Pool returns account's pool as the watch last saw it.
func (a *Accounts) Pool(account string) (Pool, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.pools[account]
	return p, ok
}

// Total is account's cluster-wide balance: its pool, this node's slice and
// the other nodes' slices of the pool's epoch as they last wrote them
// (every heartbeat, so up to a heartbeat of their spending behind).
func (a *Accounts) Total(account string) (v int64, unlimited, ok bool) {
	a.mu.Lock()
	p, ok := a.pools[account]
	if ok && !p.Unlimited {
		v = p.Amount
		for _, l := range a.leases[account] {
			if l.Epoch == p.Epoch {
				v += l.Amount
			}
		}
	}
	a.mu.Unlock()
	if !ok || p.Unlimited {
		return 0, p.Unlimited, ok
	}
	if h, held := a.local.Held(account); held {
		v += h
	}
	return min(v, math.MaxInt64/2), false, true
}

// WaitApplied waits until this node has applied the bucket up to rev (a
// change it wrote itself), bounded by the join timeout.
func (a *Accounts) WaitApplied(rev uint64) error {
	return a.waitUntil(func() bool { return a.applied >= rev })
}

// waitUntil waits, bounded by the join timeout, until cond (called with
// a.mu held) is true after an applied change.
func (a *Accounts) waitUntil(cond func() bool) error {
	deadline := time.Now().Add(a.n.o.JoinTimeout)
	t := time.AfterFunc(a.n.o.JoinTimeout, func() {
		a.mu.Lock()
		a.cond.Broadcast()
		a.mu.Unlock()
	})
	defer t.Stop()
	a.mu.Lock()
	defer a.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: a change to %s was written but not applied on this node within %v", AccountsBucket, a.n.o.JoinTimeout)
		}
		a.cond.Wait()
	}
	return nil
}

// PutUser writes a user's value (the caller checked it); PutGroup a
// group's. Both wait until this node applied the change.
func (a *Accounts) PutUser(systemID string, v []byte) error { return a.put(userKey(systemID), v) }

// PutGroup writes a group's value.
func (a *Accounts) PutGroup(name string, v []byte) error { return a.put(groupKey(name), v) }

// DeleteUser removes a user cluster-wide (its pools stay, unused, so a
// user added again with the same system_id starts from its own values).
func (a *Accounts) DeleteUser(systemID string) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.n.o.JoinTimeout)
	defer cancel()
	if err := a.kv.Delete(ctx, userKey(systemID)); err != nil {
		return fmt.Errorf("cluster: delete user %q: %w", systemID, err)
	}
	return a.waitUntil(func() bool { _, ok := a.users[systemID]; return !ok && a.ready })
}

func (a *Accounts) put(key string, v []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), a.n.o.JoinTimeout)
	defer cancel()
	rev, err := a.kv.Put(ctx, key, v)
	if err != nil {
		return fmt.Errorf("cluster: write %s: %w", key, err)
	}
	return a.WaitApplied(rev)
}

// SetPool makes account's pool p's amount (or unlimited) under a new
// epoch: every node's slice of the previous one is void. It waits until
// this node applied it.
func (a *Accounts) SetPool(account string, p Pool) error {
	rev, err := a.casPool(account, func(old Pool, exists bool) (Pool, error) {
		p.Epoch = old.Epoch + 1
		return p, nil
	})
	if err != nil {
		return err
	}
	return a.WaitApplied(rev)
}

// AddPool adds delta (either sign; the pool stops at 0) to a limited
// pool, keeping its epoch; limit > 0 refuses a result above it. It waits
// until this node applied it.
func (a *Accounts) AddPool(account string, delta, limit int64) error {
	rev, err := a.casPool(account, func(p Pool, exists bool) (Pool, error) {
		switch {
		case !exists:
			return p, ErrNoPool
		case p.Unlimited:
			return p, ErrPoolUnlimited
		case limit > 0 && delta > 0 && p.Amount > limit-delta:
			return p, fmt.Errorf("cluster: pool of %q would pass %d", account, limit)
		}
		p.Amount = max(p.Amount+delta, 0)
		return p, nil
	})
	if err != nil {
		return err
	}
	return a.WaitApplied(rev)
}

// casPool reads account's pool, lets f change it and writes it back if
// no one wrote it meanwhile, retrying on a conflict. It returns the
// revision written.
func (a *Accounts) casPool(account string, f func(p Pool, exists bool) (Pool, error)) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), a.n.o.JoinTimeout)
	defer cancel()
	key := poolKey(account)
	for {
		var (
			p      Pool
			rev    uint64
			exists bool
		)
		e, err := a.kv.Get(ctx, key)
		switch {
		case err == nil:
			if p, exists = parsePool(string(e.Value())); !exists {
				return 0, fmt.Errorf("cluster: pool of %q unreadable: %q", account, e.Value())
			}
			rev = e.Revision()
		case errors.Is(err, jetstream.ErrKeyNotFound):
		default:
			return 0, fmt.Errorf("cluster: read pool of %q: %w", account, err)
		}
		n, err := f(p, exists)
		if err != nil {
			return 0, err
		}
		var w uint64
		if exists {
			w, err = a.kv.Update(ctx, key, []byte(n.String()), rev)
		} else {
			w, err = a.kv.Create(ctx, key, []byte(n.String()))
		}
		if err == nil {
			return w, nil
		}
		if !isWrongSequence(err) && !errors.Is(err, jetstream.ErrKeyExists) {
			return 0, fmt.Errorf("cluster: write pool of %q: %w", account, err)
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("cluster: pool of %q: too many concurrent writers: %w", account, ctx.Err())
		}
		// A conflict: another writer, or a read served by a replica behind
		// the leader. Either passes in a moment.
		time.Sleep(2 * time.Millisecond)
	}
}

// AccountsStats are the lender's counters.
type AccountsStats struct {
	Borrows   uint64 // slices taken from a pool
	Returns   uint64 // slices given back (idle, or at a clean stop)
	Reclaimed uint64 // departed nodes' slices moved back to their pools
	Voided    uint64 // this node's slices dropped: a set made them void, or another node reclaimed them
}

// Stats returns the lender's counters.
func (a *Accounts) Stats() AccountsStats {
	return AccountsStats{Borrows: a.borrows.Load(), Returns: a.returns.Load(), Reclaimed: a.reclaimed.Load(), Voided: a.voided.Load()}
}
