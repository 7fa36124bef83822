package httpapi

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/httpapi/content"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// TestCurlEveryParameter: curl sends every one of Jasmin's /send
// parameters with --data-urlencode, as a form POST and as a GET (-G),
// values chosen to need encoding ('+', '&', '=', '%', spaces, brackets
// and quotes), content in one request and hex-content in another; each
// arrives as given: the stored message, its validity and its dlr-url
// callback.
func TestCurlEveryParameter(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	e := newEnv(t)
	const (
		text   = "Hi & bye = 100% +ok? (a/b)"
		dlrURL = "http://127.0.0.1:9/dlr?a=1&b=x%20y"
	)
	params := [][2]string{
		{"username", "alice"}, {"password", "alicepw"}, {"to", "+33612345678"}, {"from", "ACME & Co"},
		{"coding", "0"}, {"content", text}, {"priority", "2"}, {"sdt", "000000001000000R"},
		{"validity-period", "60"}, {"dlr", "yes"}, {"dlr-url", dlrURL}, {"dlr-level", "3"},
		{"dlr-method", "get"}, {"tags", "a,b-1"}, {"custom_tlvs", `[[5120,null,"Int1",1],[5121,"COctetString","x y"]]`},
	}
	hex := [][2]string{{"coding", "8"}, {"hex-content", "0048002B00260025"}} // "H+&%" in UCS2, in place of content
	sent := map[string]bool{"hex-content": true}
	for _, p := range params {
		sent[p[0]] = true
	}
	for _, f := range sendFields {
		if !sent[f.name()] {
			t.Fatalf("/send takes %s, which the test does not send: add it", f.name())
		}
	}
	text0, _ := content.Encode(nil, 0, text)
	for _, mode := range []string{"form", "get", "form hex"} {
		args := []string{"-sS", "--max-time", "10", "-w", " %{http_code}"}
		if mode == "get" {
			args = append(args, "-G")
		}
		coding, want := byte(0), string(text0)
		for _, p := range params {
			if mode == "form hex" {
				switch p[0] {
				case "coding":
					p = hex[0]
					coding = 8
				case "content":
					p = hex[1]
					want = "\x00H\x00+\x00&\x00%"
				}
			}
			args = append(args, "--data-urlencode", p[0]+"="+p[1])
		}
		before := time.Now()
		out, err := exec.Command(curl, append(args, e.url+"/send")...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: curl: %v %s", mode, err, out)
		}
		body, ok := strings.CutSuffix(string(out), " 200")
		id, ok2 := strings.CutPrefix(body, `Success "`)
		if !ok || !ok2 || len(id) != msg.HexLen+1 {
			t.Fatalf("%s: %s", mode, out)
		}
		id = id[:msg.HexLen]
		r := e.record(id)
		if string(r.DestAddr()) != "+33612345678" || string(r.SourceAddr()) != "ACME & Co" || r.DataCoding != coding ||
			string(r.TextPrefix()) != want[:min(len(want), storage.MaxText)] || r.RegisteredDelivery&3 != 1 {
			t.Errorf("%s: record %+v", mode, r)
		}
		if exp := before.Add(time.Hour); r.Expires < exp.Add(-2*time.Second).UnixNano() || r.Expires > exp.Add(2*time.Minute).UnixNano() {
			t.Errorf("%s: expires %v, want about an hour from now", mode, time.Unix(0, r.Expires))
		}
		mid, _ := msg.ParseID([]byte(id))
		var cb storage.Callback
		if err := e.core.Store.Callbacks().Callback(mid, &cb); err != nil {
			t.Fatalf("%s: callback: %v", mode, err)
		}
		if cb.URL != dlrURL || cb.Level != 3 || cb.Method != storage.CallbackGET {
			t.Errorf("%s: callback %+v", mode, cb)
		}
	}
}
