package admin_test

import (
	"testing"

	"github.com/smppd/smppd/internal/admintest"
)

// DELETE /v1/users/{id} removes the user (the users file is written
// without it); an unknown one is 404.
func TestDeleteUser(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	var out map[string]string
	check(t, "delete", "DELETE", e.URL+"/v1/users/bob", "", &out, 200, "")
	if out["status"] != "removed" || out["system_id"] != "bob" {
		t.Errorf("delete answered %v", out)
	}
	check(t, "show deleted", "GET", e.URL+"/v1/users/bob", "", nil, 404, "not_found")
	check(t, "delete again", "DELETE", e.URL+"/v1/users/bob", "", nil, 404, "not_found")
	saved, _ := e.LastSave()
	if len(saved) != 1 || saved[0].SystemID != "alice" {
		t.Fatalf("saved after delete: %+v", saved)
	}
}
