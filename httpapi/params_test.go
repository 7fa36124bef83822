package httpapi

import "testing"

// TestCheckUnknown: the unknown parameter reported is the first in sorted
// order among names the API does not know and names it knows that the
// endpoint does not take; a repeated name keeps its first value; every
// known name maps to itself.
func TestCheckUnknown(t *testing.T) {
	for _, c := range []struct {
		query string
		fs    fieldSet
		want  string
	}{
		{"username=u&password=p&zeta=1&to=1", balanceFields, "Argument [to] is unknown."},
		{"username=u&password=p&zeta=1&dlr=yes&abc=2", balanceFields, "Argument [abc] is unknown."},
		{"to=1&username=u&password=p&content=x&dlr=yes&tags=a&dlr-url=http://h/", rateFields, "Argument [dlr] is unknown."},
		{"to=1&username=u&password=p&content=x&coding=0", rateFields, ""},
		{"", balanceFields, "Mandatory arguments not found, please refer to the HTTPAPI specifications."},
		{"x=1", balanceFields, "Argument [x] is unknown."},
		{"username=u", balanceFields, "Mandatory argument [password] is not found."},
		{"username=u&password=", balanceFields, "Argument [password] has an invalid value: []."},
	} {
		var p params
		if err := p.fromQuery(c.query); err != nil {
			t.Fatal(err)
		}
		got := ""
		if f := p.check(c.fs); f != nil {
			got = f.reason
		}
		if got != c.want {
			t.Errorf("%q: %q, want %q", c.query, got, c.want)
		}
	}
	var p params
	if err := p.fromQuery("to=1&to=2&coding=8"); err != nil || p.value(pTo) != "1" || p.n != 2 {
		t.Errorf("repeated: to %q, n %d, %v", p.value(pTo), p.n, err)
	}
	for k := range nParams {
		if got, ok := paramOf(paramNames[k]); !ok || got != k {
			t.Errorf("paramOf(%q) = %d, %v; want %d", paramNames[k], got, ok, k)
		}
	}
	if _, ok := paramOf("messages"); ok {
		t.Error("messages is no parameter")
	}
}
