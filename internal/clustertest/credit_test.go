//go:build linux && !race

package clustertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
)

const (
	creditUser  = "credit"
	creditPass  = "crpass12"
	creditParts = 100 // the balance the step gives the user, in parts
)

// testCredit: a user added through node 1's admin API binds on node 2
// (the accounts bucket carries it), submits on nodes 1 and 2 at once
// until its balance is spent, and the nodes together accept no more than
// the balance pays for (credit leases: the overspend bound is 0 while no
// balance is set and no node dies); a top-up made on node 2 shows on node
// 1 and pays for more submits there.
func testCredit(t *testing.T, n1, n2 *node) {
	body := fmt.Sprintf(`{"system_id":%q,"password":%q,"balance":"%g","bind_types":["transmitter"],"receipts":false}`,
		creditUser, creditPass, creditParts*creditRate)
	if code, out := adminDo(n1.adminURL(), "POST", "/v1/users", body); code != http.StatusCreated {
		t.Fatalf("POST /v1/users on node 1: %d %s", code, out)
	}
	var seen time.Duration
	began := time.Now()
	if !waitFor(10*time.Second, func() bool {
		code, _ := adminDo(n2.adminURL(), "GET", "/v1/users/"+creditUser, "")
		seen = time.Since(began)
		return code == http.StatusOK
	}) {
		t.Fatal("node 2 does not know the user added on node 1 after 10 s")
	}

	// Both nodes submit for 4 s: past the 2 s after which an idle slice
	// goes back to the pool, so the end of the balance is spent wherever.
	acc := make([]int, 2)
	refused := make([]map[codec.Status]int, 2)
	var wg sync.WaitGroup
	for i, n := range []*node{n1, n2} {
		wg.Go(func() {
			acc[i], refused[i] = submitFor(t, n.smppAddr(), creditUser, creditPass, 4*time.Second, time.Time{})
		})
	}
	wg.Wait()
	total := acc[0] + acc[1]
	t.Logf("credit: user added on node 1 known on node 2 after %v; balance for %d parts: node 1 accepted %d (refused %v), node 2 %d (refused %v)",
		seen.Round(time.Millisecond), creditParts, acc[0], refused[0], acc[1], refused[1])
	if total > creditParts {
		t.Errorf("accepted %d parts on a balance for %d: overspent", total, creditParts)
	}
	if total < creditParts/2 || acc[0] == 0 || acc[1] == 0 {
		t.Errorf("accepted %d + %d of %d: the balance is not shared", acc[0], acc[1], creditParts)
	}

	// A top-up on node 2 for 50 more parts: node 1 shows it and spends it.
	if code, out := adminDo(n2.adminURL(), "POST", "/v1/users/"+creditUser+"/balance", fmt.Sprintf(`{"topup":"%g"}`, 50*creditRate)); code != http.StatusOK {
		t.Fatalf("top-up on node 2: %d %s", code, out)
	}
	began = time.Now()
	var bal float64
	if !waitFor(10*time.Second, func() bool {
		var u struct {
			Balance string `json:"balance"`
		}
		_, out := adminDo(n1.adminURL(), "GET", "/v1/users/"+creditUser, "")
		if json.Unmarshal(out, &u) != nil {
			return false
		}
		bal, _ = strconv.ParseFloat(u.Balance, 64)
		return bal >= 50*creditRate
	}) {
		t.Fatalf("node 1 shows balance %v 10 s after a top-up of %g on node 2", bal, 50*creditRate)
	}
	seen = time.Since(began)
	more, ref := submitFor(t, n1.smppAddr(), creditUser, creditPass, 2*time.Second, time.Time{})
	t.Logf("credit: top-up on node 2 seen on node 1 after %v (balance %v); node 1 then accepted %d more (refused %v)",
		seen.Round(time.Millisecond), bal, more, ref)
	if more == 0 {
		t.Error("node 1 accepted nothing after the top-up")
	}
	if total+more > creditParts+50 {
		t.Errorf("accepted %d parts on balances for %d: overspent", total+more, creditParts+50)
	}
}

// submitFor binds systemID on addr and submits one message at a time for
// d; it returns how many were accepted from the time from on (zero: all)
// and the refusals.
func submitFor(t *testing.T, addr, systemID, pass string, d time.Duration, from time.Time) (int, map[codec.Status]int) {
	refused := map[codec.Status]int{}
	w, err := dial(addr)
	if err != nil {
		t.Error(err)
		return 0, refused
	}
	defer w.Close()
	if err := w.Bind(codec.BindTransmitterID, systemID, pass); err != nil {
		t.Errorf("bind %s on %s: %v", systemID, addr, err)
		return 0, refused
	}
	sm := codec.SM{SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: []byte(source), DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: []byte("491700000"), ShortMessage: []byte("credit")}
	accepted := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		if _, err := w.Send(codec.SubmitSMID, sm.Append, nil); err != nil {
			t.Error(err)
			return accepted, refused
		}
		_ = w.SetReadDeadline(time.Now().Add(ioTimeout))
		for {
			h, _, err := w.Read()
			if err != nil {
				t.Error(err)
				return accepted, refused
			}
			if h.CommandID != codec.SubmitSMRespID && h.CommandID != codec.GenericNackID {
				w.Housekeeping(h)
				continue
			}
			if h.Status == codec.StatusOK {
				if !time.Now().Before(from) {
					accepted++
				}
			} else {
				refused[h.Status]++
				time.Sleep(5 * time.Millisecond) // a throttled refill, or the balance spent
			}
			break
		}
	}
	_, _ = w.Send(codec.UnbindID, nil, nil)
	return accepted, refused
}

// adminDo makes one admin API request and returns the status and body.
func adminDo(base, method, path, body string) (int, []byte) {
	req, err := http.NewRequest(method, base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.Bytes()
}
