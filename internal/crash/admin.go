package crash

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var httpClient = &http.Client{Timeout: 5 * time.Second}

// balance returns crashUser's balance in micro-units from GET /v1/users/{id}.
func balance(adminURL string) (int64, string, error) {
	resp, err := httpClient.Get(adminURL + "/v1/users/" + crashUser)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, "", fmt.Errorf("GET /v1/users/%s: %d %s", crashUser, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var u struct {
		Balance string `json:"balance"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		return 0, "", err
	}
	m, err := parseMicros(u.Balance)
	return m, u.Balance, err
}

// parseMicros reads an amount as the API writes it ("999.97", "12") in
// micro-units; "unlimited" is an error here, the case's user has a number.
func parseMicros(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 6 {
		return 0, fmt.Errorf("balance %q: more than 6 decimals", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("balance %q is not a number", s)
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt(frac+strings.Repeat("0", 6-len(frac)), 10, 64); err != nil || f < 0 {
			return 0, fmt.Errorf("balance %q is not a number", s)
		}
	}
	return w*microsPerUnit + f, nil
}

// ready returns the status code and body of GET /v1/ready.
func ready(adminURL string) (int, string, error) {
	resp, err := httpClient.Get(adminURL + "/v1/ready")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, strings.Join(strings.Fields(string(body)), " "), err
}

// units formats micro-units as an amount with six decimals.
func units(m int64) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%06d", sign, m/microsPerUnit, m%microsPerUnit)
}
