package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/storage"
)

// splitEvery is how often a cluster node re-splits users' throughput by
// where their sending binds are (accounts.Store.SplitThroughput).
const splitEvery = 250 * time.Millisecond

// sharedState is what a cluster node shares of its users: the accounts
// bucket, and the throughput splitter; set once by shareCluster.
type sharedState struct {
	acc       atomic.Pointer[cluster.Accounts]
	stopSplit func()
	queues    *sharedQueues // the connectors' shared queues (sharedqueues.go), made by sharedOf
}

// close gives the node's credit slices back and stops the splitter.
func (s *sharedState) close() {
	if s.stopSplit != nil {
		s.stopSplit()
	}
	if a := s.acc.Load(); a != nil {
		a.Close()
	}
}

// shareCluster makes a cluster node's users cluster-wide: bind limits
// count every node's binds; users, groups, balances and quotas come from
// the accounts bucket (seeded from this node's users when the bucket is
// empty), with credit leases; throughput is split by where the users'
// sending binds are. Outside a cluster it does nothing.
func shareCluster(st storage.Store, users *accounts.Store, log zerolog.Logger) error {
	c, ok := st.(clusterStore)
	if !ok {
		return nil
	}
	users.SetBindsElsewhere(c.binds)
	acc, err := c.node.OpenAccounts()
	if err != nil {
		return err
	}
	u, g, p, err := seedOf(users)
	if err != nil {
		return err
	}
	if _, err := acc.Seed(u, g, p); err != nil {
		return err
	}
	d := &sharedUsers{acc: acc, users: users}
	users.Share(d)
	if err := acc.Start(users, d.apply); err != nil {
		return err
	}
	c.shared.acc.Store(acc)
	n := len(users.Users())
	log.Info().Str("event", "accounts_shared").Int("users", n).Str("bucket", cluster.AccountsBucket).
		Msg("cluster: users, groups, balances and quotas come from the cluster; the users file is not read again")

	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(splitEvery)
		defer t.Stop()
		share := func(id string, local int) float64 { return throughputShare(c.binds, acc.LiveNodes(), id, local) }
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				users.SplitThroughput(share)
			}
		}
	}()
	c.shared.stopSplit = func() {
		close(stop)
		<-done
	}
	return nil
}

// throughputShare is this node's part of a user's throughput: its share
// of the user's sending binds (transmitter and transceiver) cluster-wide;
// a node where the user holds none (HTTP submits) gets 1/live nodes.
func throughputShare(b *cluster.Binds, live int, id string, local int) float64 {
	_, bt := b.Binds(id)
	remote := bt[0] + bt[2]
	if local <= 0 {
		return 1 / float64(max(live, 1))
	}
	return float64(local) / float64(local+remote)
}

// seedOf is what an empty accounts bucket is seeded with: this node's
// users (the users file, live balances from the ledger) and groups.
func seedOf(users *accounts.Store) (map[string][]byte, map[string][]byte, map[string]cluster.Pool, error) {
	us, gs := users.Users(), users.Groups()
	um := make(map[string][]byte, len(us))
	pm := make(map[string]cluster.Pool, 2*len(us))
	for i := range us {
		b, err := userValue(&us[i])
		if err != nil {
			return nil, nil, nil, err
		}
		id := us[i].SystemID
		um[id] = b
		pm[id] = balancePool(us[i].Limits.Balance)
		pm[accounts.QuotaAccount(id)] = quotaPool(us[i].Limits.Quota, us[i].Limits.QuotaUsed)
	}
	gm := make(map[string][]byte, len(gs))
	for _, g := range gs {
		b, err := json.Marshal(g)
		if err != nil {
			return nil, nil, nil, err
		}
		gm[g.Name] = b
	}
	return um, gm, pm, nil
}

// userValue is a user as the accounts bucket keeps it: its users-file
// spec, without balance and quota_used (the pools hold them).
func userValue(u *accounts.User) ([]byte, error) {
	s := u.Spec()
	s.Balance, s.QuotaUsed = "", 0
	return json.Marshal(&s)
}

func balancePool(b accounts.Amount) cluster.Pool {
	if b.IsUnlimited() {
		return cluster.Pool{Epoch: 1, Unlimited: true}
	}
	return cluster.Pool{Epoch: 1, Amount: b.Micros()}
}

func quotaPool(quota, used int64) cluster.Pool {
	if quota <= 0 {
		return cluster.Pool{Epoch: 1, Unlimited: true}
	}
	return cluster.Pool{Epoch: 1, Amount: max(quota-used, 0)}
}

// sharedUsers is accounts.Directory on the accounts bucket.
type sharedUsers struct {
	acc   *cluster.Accounts
	users *accounts.Store
}

// apply loads the bucket's users and groups into the Store by the users
// file's rules (accounts.ParseUser, then ApplyShared's checks): a user's
// balance is limited or not as its pool says; a missing pool counts as
// limited and empty, so a user never sends for free.
func (d *sharedUsers) apply(dir cluster.Directory) error {
	groups := make([]accounts.Group, 0, len(dir.Groups))
	for name, v := range dir.Groups {
		var g accounts.Group
		if err := json.Unmarshal(v, &g); err != nil {
			return fmt.Errorf("group %q: %w", name, err)
		}
		groups = append(groups, g)
	}
	known := func(name string) bool {
		return slices.ContainsFunc(groups, func(g accounts.Group) bool { return g.Name == name })
	}
	ids := make([]string, 0, len(dir.Users))
	for id := range dir.Users {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var c accounts.Check
	users := make([]accounts.User, 0, len(ids))
	for _, id := range ids {
		var s accounts.UserSpec
		if err := json.Unmarshal(dir.Users[id], &s); err != nil {
			return fmt.Errorf("user %q: %w", id, err)
		}
		s.Balance = "unlimited"
		if p, ok := d.acc.Pool(id); !ok || !p.Unlimited {
			s.Balance = "0"
		}
		s.QuotaUsed = s.Quota // no parts held here: the pool has them
		users = append(users, accounts.ParseUser(&s, known, &c))
	}
	if err := c.Err(); err != nil {
		return err
	}
	return d.users.ApplyShared(users, groups)
}

// PutUser writes u's pools (a new user's, or a changed quota total's)
// and then u.
func (d *sharedUsers) PutUser(u accounts.User, prev *accounts.User) error {
	id, qa := u.SystemID, accounts.QuotaAccount(u.SystemID)
	l := &u.Limits
	if prev == nil {
		if err := d.acc.SetPool(id, balancePool(l.Balance)); err != nil {
			return err
		}
		if err := d.acc.SetPool(qa, quotaPool(l.Quota, l.QuotaUsed)); err != nil {
			return err
		}
	} else if pq := prev.Limits.Quota; pq != l.Quota {
		var err error
		switch {
		case l.Quota <= 0:
			err = d.acc.SetPool(qa, quotaPool(0, 0))
		case pq <= 0:
			err = d.acc.SetPool(qa, quotaPool(l.Quota, 0))
		default: // the parts used stay used
			err = d.acc.AddPool(qa, l.Quota-pq, 0)
		}
		if err != nil {
			return err
		}
	}
	b, err := userValue(&u)
	if err != nil {
		return err
	}
	return d.acc.PutUser(id, b)
}

// DeleteUser removes the user; its pools stay until it is added again.
func (d *sharedUsers) DeleteUser(systemID string) error { return d.acc.DeleteUser(systemID) }

// SetBalance sets the pool under a new epoch.
func (d *sharedUsers) SetBalance(systemID string, b accounts.Amount) error {
	return d.acc.SetPool(systemID, balancePool(b))
}

// TopUp adds to the pool.
func (d *sharedUsers) TopUp(systemID string, b accounts.Amount) error {
	err := d.acc.AddPool(systemID, b.Micros(), accounts.MaxMicros)
	switch {
	case errors.Is(err, cluster.ErrPoolUnlimited):
		return accounts.ErrUnlimitedBalance
	case errors.Is(err, cluster.ErrNoPool):
		return fmt.Errorf("%w %q", accounts.ErrUnknownUser, systemID)
	}
	return err
}

func (d *sharedUsers) Short(account string, need int64) { d.acc.Short(account, need) }

func (d *sharedUsers) Refilling(account string, need int64) bool {
	return d.acc.Refilling(account, need)
}

func (d *sharedUsers) Total(account string) (int64, bool, bool) { return d.acc.Total(account) }
