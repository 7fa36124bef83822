package policy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/smppd/smppd/codec"
)

// statusByName maps every spec name codec knows ("ESME_RINVDSTADR") to its
// value.
var statusByName = func() map[string]codec.Status {
	m := make(map[string]codec.Status)
	for v := codec.Status(0); v < 0x500; v++ {
		if v.Known() {
			m[v.String()] = v
		}
	}
	return m
}()

// parseStatus reads a refusal status: a spec name or a number ("0x0B",
// "11"). Empty is def. ESME_ROK is no refusal and is refused.
func parseStatus(s string, def codec.Status) (codec.Status, error) {
	if s == "" {
		return def, nil
	}
	if v, ok := statusByName[strings.ToUpper(s)]; ok {
		if v == codec.StatusOK {
			return 0, fmt.Errorf("ESME_ROK is not a refusal")
		}
		return v, nil
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return 0, fmt.Errorf("%q is neither an SMPP status name (ESME_R...) nor a number", s)
	}
	if n == 0 {
		return 0, fmt.Errorf("0 (ESME_ROK) is not a refusal")
	}
	return codec.Status(n), nil
}
