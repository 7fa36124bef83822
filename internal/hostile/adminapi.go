package hostile

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const adminMOBody = `{"source_addr":"4917000","destination_addr":"1234","short_message":"admin case"}`

// adminProbe is one request to the admin API and what must come back.
type adminProbe struct {
	name        string
	method      string
	path        string
	contentType string // "" = no Content-Type header at all
	host        string // "" = the address dialled
	want        func(int) bool
	wantText    string
}

func status(code int) func(int) bool { return func(got int) bool { return got == code } }

func adminProbes() []adminProbe {
	refused := func(got int) bool { return got >= 400 && got < 500 }
	return []adminProbe{
		// The control: a well-formed injection is accepted, so the refusals
		// below are about what each probe changes.
		{name: "POST /v1/mo as application/json", method: http.MethodPost, path: "/v1/mo", contentType: "application/json",
			want: status(http.StatusAccepted), wantText: "202"},
		{name: "POST /v1/mo without Content-Type", method: http.MethodPost, path: "/v1/mo",
			want: status(http.StatusUnsupportedMediaType), wantText: "415"},
		{name: "POST /v1/mo as text/plain", method: http.MethodPost, path: "/v1/mo", contentType: "text/plain",
			want: status(http.StatusUnsupportedMediaType), wantText: "415"},
		{name: "POST /v1/mo with Host: evil.example", method: http.MethodPost, path: "/v1/mo", contentType: "application/json",
			host: "evil.example", want: refused, wantText: "4xx"},
		{name: "GET /v1/mo (wrong method)", method: http.MethodGet, path: "/v1/mo",
			want: status(http.StatusMethodNotAllowed), wantText: "405"},
	}
}

// adminRequests sends each probe once.
func adminRequests(e *env, r *Result) {
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for _, p := range adminProbes() {
		got, err := adminDo(client, e.srv.adminURL, p)
		name := p.name + " -> " + p.wantText
		if err != nil {
			r.check(name, false, "%v", err)
			continue
		}
		r.check(name, p.want(got), "%d", got)
	}
}

func adminDo(client *http.Client, base string, p adminProbe) (int, error) {
	var body io.Reader
	if p.method == http.MethodPost {
		body = strings.NewReader(adminMOBody)
	}
	req, err := http.NewRequest(p.method, base+p.path, body)
	if err != nil {
		return 0, err
	}
	if p.contentType != "" {
		req.Header.Set("Content-Type", p.contentType)
	}
	if p.host != "" {
		req.Host = p.host
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", p.method, p.path, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
