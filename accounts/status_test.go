package accounts

import (
	"testing"

	"github.com/smppd/smppd/codec"
)

// TestStatusValues cross-checks our copies of the command_status values
// (accounts does not import codec) against the codec's table.
func TestStatusValues(t *testing.T) {
	for _, c := range []struct {
		ours uint32
		spec codec.Status
		name string
	}{
		{StatusOK, codec.StatusOK, "ESME_ROK"},
		{StatusInvPrtFlg, codec.StatusInvPrtFlg, "ESME_RINVPRTFLG"},
		{StatusInvRegDlvFlg, codec.StatusInvRegDlvFlg, "ESME_RINVREGDLVFLG"},
		{StatusSysErr, codec.StatusSysErr, "ESME_RSYSERR"},
		{StatusInvSrcAdr, codec.StatusInvSrcAdr, "ESME_RINVSRCADR"},
		{StatusInvDstAdr, codec.StatusInvDstAdr, "ESME_RINVDSTADR"},
		{StatusInvSysID, codec.StatusInvSysID, "ESME_RINVSYSID"},
		{StatusSubmitFail, codec.StatusSubmitFail, "ESME_RSUBMITFAIL"},
		{StatusThrottled, codec.StatusThrottled, "ESME_RTHROTTLED"},
		{StatusInvValidity, codec.StatusInvExpiry, "ESME_RINVEXPIRY"},
	} {
		if c.ours != uint32(c.spec) {
			t.Errorf("%s: ours %#x, codec %#x", c.name, c.ours, uint32(c.spec))
		}
		if got := c.spec.String(); got != c.name {
			t.Errorf("codec names %#x %q, want %q", uint32(c.spec), got, c.name)
		}
	}
}
