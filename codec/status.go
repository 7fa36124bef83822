package codec

// Status is the SMPP command_status.
type Status uint32

// v3.4 command_status values (SMPP 3.4 §5.1.3). The codes are not contiguous.
const (
	StatusOK              Status = 0x00000000 // ESME_ROK
	StatusInvMsgLen       Status = 0x00000001 // ESME_RINVMSGLEN
	StatusInvCmdLen       Status = 0x00000002 // ESME_RINVCMDLEN
	StatusInvCmdID        Status = 0x00000003 // ESME_RINVCMDID
	StatusInvBndSts       Status = 0x00000004 // ESME_RINVBNDSTS
	StatusAlyBnd          Status = 0x00000005 // ESME_RALYBND
	StatusInvPrtFlg       Status = 0x00000006 // ESME_RINVPRTFLG
	StatusInvRegDlvFlg    Status = 0x00000007 // ESME_RINVREGDLVFLG
	StatusSysErr          Status = 0x00000008 // ESME_RSYSERR
	StatusInvSrcAdr       Status = 0x0000000A // ESME_RINVSRCADR
	StatusInvDstAdr       Status = 0x0000000B // ESME_RINVDSTADR
	StatusInvMsgID        Status = 0x0000000C // ESME_RINVMSGID
	StatusBindFail        Status = 0x0000000D // ESME_RBINDFAIL
	StatusInvPaswd        Status = 0x0000000E // ESME_RINVPASWD
	StatusInvSysID        Status = 0x0000000F // ESME_RINVSYSID
	StatusCancelFail      Status = 0x00000011 // ESME_RCANCELFAIL
	StatusReplaceFail     Status = 0x00000013 // ESME_RREPLACEFAIL
	StatusMsgQFul         Status = 0x00000014 // ESME_RMSGQFUL
	StatusInvSerTyp       Status = 0x00000015 // ESME_RINVSERTYP
	StatusInvNumDests     Status = 0x00000033 // ESME_RINVNUMDESTS
	StatusInvDLName       Status = 0x00000034 // ESME_RINVDLNAME
	StatusInvDestFlag     Status = 0x00000040 // ESME_RINVDESTFLAG
	StatusInvSubRep       Status = 0x00000042 // ESME_RINVSUBREP
	StatusInvEsmClass     Status = 0x00000043 // ESME_RINVESMCLASS
	StatusCntSubDL        Status = 0x00000044 // ESME_RCNTSUBDL
	StatusSubmitFail      Status = 0x00000045 // ESME_RSUBMITFAIL
	StatusInvSrcTON       Status = 0x00000048 // ESME_RINVSRCTON
	StatusInvSrcNPI       Status = 0x00000049 // ESME_RINVSRCNPI
	StatusInvDstTON       Status = 0x00000050 // ESME_RINVDSTTON
	StatusInvDstNPI       Status = 0x00000051 // ESME_RINVDSTNPI
	StatusInvSysTyp       Status = 0x00000053 // ESME_RINVSYSTYP
	StatusInvRepFlag      Status = 0x00000054 // ESME_RINVREPFLAG
	StatusInvNumMsgs      Status = 0x00000055 // ESME_RINVNUMMSGS
	StatusThrottled       Status = 0x00000058 // ESME_RTHROTTLED
	StatusInvSched        Status = 0x00000061 // ESME_RINVSCHED
	StatusInvExpiry       Status = 0x00000062 // ESME_RINVEXPIRY
	StatusInvDftMsgID     Status = 0x00000063 // ESME_RINVDFTMSGID
	StatusXTAppn          Status = 0x00000064 // ESME_RX_T_APPN
	StatusXPAppn          Status = 0x00000065 // ESME_RX_P_APPN
	StatusXRAppn          Status = 0x00000066 // ESME_RX_R_APPN
	StatusQueryFail       Status = 0x00000067 // ESME_RQUERYFAIL
	StatusInvOptParStream Status = 0x000000C0 // ESME_RINVOPTPARSTREAM
	StatusOptParNotAllwd  Status = 0x000000C1 // ESME_ROPTPARNOTALLWD
	StatusInvParLen       Status = 0x000000C2 // ESME_RINVPARLEN
	StatusMissingOptParam Status = 0x000000C3 // ESME_RMISSINGOPTPARAM
	StatusInvOptParamVal  Status = 0x000000C4 // ESME_RINVOPTPARAMVAL
	StatusDeliveryFailure Status = 0x000000FE // ESME_RDELIVERYFAILURE
	StatusUnknownErr      Status = 0x000000FF // ESME_RUNKNOWNERR
)

// String returns the spec name ("ESME_RTHROTTLED"); unknown values print as
// "0x%08x" (that path allocates, the known path does not).
func (s Status) String() string {
	if n, _ := s.names(); n != "" {
		return n
	}
	return hex32(uint32(s), 8)
}

// Description returns a short human text, or "reserved status" for values
// outside the v3.4 table.
func (s Status) Description() string {
	if _, d := s.names(); d != "" {
		return d
	}
	return "reserved status"
}

// Known reports whether s is one of the 48 v3.4 status codes.
func (s Status) Known() bool {
	n, _ := s.names()
	return n != ""
}

func (s Status) names() (name, desc string) {
	switch s {
	case StatusOK:
		return "ESME_ROK", "success"
	case StatusInvMsgLen:
		return "ESME_RINVMSGLEN", "message length invalid"
	case StatusInvCmdLen:
		return "ESME_RINVCMDLEN", "command length invalid"
	case StatusInvCmdID:
		return "ESME_RINVCMDID", "invalid command id"
	case StatusInvBndSts:
		return "ESME_RINVBNDSTS", "incorrect bind status for this command"
	case StatusAlyBnd:
		return "ESME_RALYBND", "already bound"
	case StatusInvPrtFlg:
		return "ESME_RINVPRTFLG", "invalid priority flag"
	case StatusInvRegDlvFlg:
		return "ESME_RINVREGDLVFLG", "invalid registered delivery flag"
	case StatusSysErr:
		return "ESME_RSYSERR", "system error"
	case StatusInvSrcAdr:
		return "ESME_RINVSRCADR", "invalid source address"
	case StatusInvDstAdr:
		return "ESME_RINVDSTADR", "invalid destination address"
	case StatusInvMsgID:
		return "ESME_RINVMSGID", "invalid message id"
	case StatusBindFail:
		return "ESME_RBINDFAIL", "bind failed"
	case StatusInvPaswd:
		return "ESME_RINVPASWD", "invalid password"
	case StatusInvSysID:
		return "ESME_RINVSYSID", "invalid system id"
	case StatusCancelFail:
		return "ESME_RCANCELFAIL", "cancel_sm failed"
	case StatusReplaceFail:
		return "ESME_RREPLACEFAIL", "replace_sm failed"
	case StatusMsgQFul:
		return "ESME_RMSGQFUL", "message queue full"
	case StatusInvSerTyp:
		return "ESME_RINVSERTYP", "invalid service type"
	case StatusInvNumDests:
		return "ESME_RINVNUMDESTS", "invalid number of destinations"
	case StatusInvDLName:
		return "ESME_RINVDLNAME", "invalid distribution list name"
	case StatusInvDestFlag:
		return "ESME_RINVDESTFLAG", "invalid destination flag"
	case StatusInvSubRep:
		return "ESME_RINVSUBREP", "invalid submit with replace request"
	case StatusInvEsmClass:
		return "ESME_RINVESMCLASS", "invalid esm_class"
	case StatusCntSubDL:
		return "ESME_RCNTSUBDL", "cannot submit to distribution list"
	case StatusSubmitFail:
		return "ESME_RSUBMITFAIL", "submit failed"
	case StatusInvSrcTON:
		return "ESME_RINVSRCTON", "invalid source address TON"
	case StatusInvSrcNPI:
		return "ESME_RINVSRCNPI", "invalid source address NPI"
	case StatusInvDstTON:
		return "ESME_RINVDSTTON", "invalid destination address TON"
	case StatusInvDstNPI:
		return "ESME_RINVDSTNPI", "invalid destination address NPI"
	case StatusInvSysTyp:
		return "ESME_RINVSYSTYP", "invalid system type"
	case StatusInvRepFlag:
		return "ESME_RINVREPFLAG", "invalid replace_if_present flag"
	case StatusInvNumMsgs:
		return "ESME_RINVNUMMSGS", "invalid number of messages"
	case StatusThrottled:
		return "ESME_RTHROTTLED", "throttling error: rate exceeded"
	case StatusInvSched:
		return "ESME_RINVSCHED", "invalid scheduled delivery time"
	case StatusInvExpiry:
		return "ESME_RINVEXPIRY", "invalid validity period"
	case StatusInvDftMsgID:
		return "ESME_RINVDFTMSGID", "predefined message invalid or not found"
	case StatusXTAppn:
		return "ESME_RX_T_APPN", "ESME receiver temporary application error"
	case StatusXPAppn:
		return "ESME_RX_P_APPN", "ESME receiver permanent application error"
	case StatusXRAppn:
		return "ESME_RX_R_APPN", "ESME receiver reject message error"
	case StatusQueryFail:
		return "ESME_RQUERYFAIL", "query_sm failed"
	case StatusInvOptParStream:
		return "ESME_RINVOPTPARSTREAM", "error in the optional part of the PDU body"
	case StatusOptParNotAllwd:
		return "ESME_ROPTPARNOTALLWD", "optional parameter not allowed"
	case StatusInvParLen:
		return "ESME_RINVPARLEN", "invalid parameter length"
	case StatusMissingOptParam:
		return "ESME_RMISSINGOPTPARAM", "expected optional parameter missing"
	case StatusInvOptParamVal:
		return "ESME_RINVOPTPARAMVAL", "invalid optional parameter value"
	case StatusDeliveryFailure:
		return "ESME_RDELIVERYFAILURE", "delivery failure"
	case StatusUnknownErr:
		return "ESME_RUNKNOWNERR", "unknown error"
	}
	return "", ""
}
