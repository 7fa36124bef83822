package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

// A list edited through the admin API: the file is rewritten, the policy
// loaded again, and the next submit sees the edit; test answers from the
// list in force.
func TestPolicyListsOnTheAdminAPI(t *testing.T) {
	cfgPath, _, _, adminPort := demoDir(t)
	dir := filepath.Dir(cfgPath)
	must(t, os.WriteFile(filepath.Join(dir, "policy.toml"), []byte("[[list]]\nname = \"blocked\"\nkind = \"block\"\nfield = \"dest\"\nfile = \"blocked.txt\"\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "blocked.txt"), []byte("# ranges\n4916*\n"), 0o600))
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	must(t, os.WriteFile(cfgPath, []byte(strings.Replace(string(src), "\nfile = \"\" ", "\nfile = \"policy.toml\" ", 1)), 0o600))
	d, _, _ := runConfig(t, cfgPath)
	api := "http://127.0.0.1:" + strconv.Itoa(adminPort)

	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	seq := uint32(1)
	submit := func(dst string) codec.Status {
		t.Helper()
		seq++
		must(t, c.Send(codec.SubmitSMID, 0, seq, smpptest.SubmitBody("1234", dst, "x")))
		h, _, err := c.ReadFrame(5 * time.Second)
		must(t, err)
		return h.Status
	}
	if st := submit("4917123456"); st != codec.StatusOK {
		t.Fatalf("before the edit: %v", st)
	}
	var lists struct {
		Lists []struct {
			Name    string `json:"name"`
			Entries int    `json:"entries"`
		} `json:"lists"`
	}
	if st := call(t, "GET", api+"/v1/policy/lists", &lists); st != 200 || len(lists.Lists) != 1 || lists.Lists[0].Entries != 1 {
		t.Fatalf("GET lists: %d %+v", st, lists)
	}
	res, err := http.Post(api+"/v1/policy/lists/blocked/entries", "application/json", strings.NewReader(`{"entry":"4917*"}`))
	must(t, err)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("POST entry: %s", res.Status)
	}
	if st := submit("4917123456"); st != codec.StatusInvDstAdr {
		t.Fatalf("after adding 4917*: %v", st)
	}
	var test struct {
		Listed bool `json:"listed"`
	}
	if st := call(t, "GET", api+"/v1/policy/lists/blocked/test?number=491700", &test); st != 200 || !test.Listed {
		t.Fatalf("test: %d %+v", st, test)
	}
	b, err := os.ReadFile(filepath.Join(dir, "blocked.txt"))
	must(t, err)
	if string(b) != "# ranges\n4916*\n4917*\n" {
		t.Fatalf("file after the add:\n%s", b)
	}
	if st := call(t, "DELETE", api+"/v1/policy/lists/blocked/entries/4917*", nil); st != 200 {
		t.Fatalf("DELETE: %d", st)
	}
	if st := submit("4917123456"); st != codec.StatusOK {
		t.Fatalf("after removing 4917*: %v", st)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/v1/policy/lists/nope/test?number=1", 404},
		{"GET", "/v1/policy/lists/blocked/test", 400},
		{"DELETE", "/v1/policy/lists/blocked/entries/49%2A1", 400},
	} {
		if st := call(t, c.method, api+c.path, nil); st != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, st, c.want)
		}
	}
}
