package codec

// CommandID is the SMPP command_id. Constants carry the suffix ID so the bare
// names stay free for the body types.
type CommandID uint32

// v3.4 command ids (SMPP 3.4 §5.1.2).
const (
	GenericNackID         CommandID = 0x80000000
	BindReceiverID        CommandID = 0x00000001
	BindReceiverRespID    CommandID = 0x80000001
	BindTransmitterID     CommandID = 0x00000002
	BindTransmitterRespID CommandID = 0x80000002
	QuerySMID             CommandID = 0x00000003
	QuerySMRespID         CommandID = 0x80000003
	SubmitSMID            CommandID = 0x00000004
	SubmitSMRespID        CommandID = 0x80000004
	DeliverSMID           CommandID = 0x00000005
	DeliverSMRespID       CommandID = 0x80000005
	UnbindID              CommandID = 0x00000006
	UnbindRespID          CommandID = 0x80000006
	ReplaceSMID           CommandID = 0x00000007
	ReplaceSMRespID       CommandID = 0x80000007
	CancelSMID            CommandID = 0x00000008
	CancelSMRespID        CommandID = 0x80000008
	BindTransceiverID     CommandID = 0x00000009
	BindTransceiverRespID CommandID = 0x80000009
	OutbindID             CommandID = 0x0000000B
	EnquireLinkID         CommandID = 0x00000015
	EnquireLinkRespID     CommandID = 0x80000015
	SubmitMultiID         CommandID = 0x00000021
	SubmitMultiRespID     CommandID = 0x80000021
	AlertNotificationID   CommandID = 0x00000102
	DataSMID              CommandID = 0x00000103
	DataSMRespID          CommandID = 0x80000103
)

// responseBit marks a response command id.
const responseBit = 0x80000000

// IsResponse reports whether bit 31 is set (generic_nack included).
func (c CommandID) IsResponse() bool { return c&responseBit != 0 }

// HasResponse reports whether c is a known request that is answered by a
// *_resp (false for outbind, alert_notification, responses and unknown ids).
func (c CommandID) HasResponse() bool {
	switch c {
	case BindReceiverID, BindTransmitterID, BindTransceiverID, QuerySMID, SubmitSMID,
		DeliverSMID, UnbindID, ReplaceSMID, CancelSMID, EnquireLinkID, SubmitMultiID, DataSMID:
		return true
	}
	return false
}

// Response returns the response id for a request that has one, and
// GenericNackID for everything else (outbind, alert_notification, responses,
// unknown ids): that is the PDU a peer would use to answer it.
func (c CommandID) Response() CommandID {
	if c.HasResponse() {
		return c | responseBit
	}
	return GenericNackID
}

// Known reports whether c is one of the 27 v3.4 command ids.
func (c CommandID) Known() bool { return c.name() != "" }

func (c CommandID) name() string {
	switch c {
	case GenericNackID:
		return "generic_nack"
	case BindReceiverID:
		return "bind_receiver"
	case BindReceiverRespID:
		return "bind_receiver_resp"
	case BindTransmitterID:
		return "bind_transmitter"
	case BindTransmitterRespID:
		return "bind_transmitter_resp"
	case QuerySMID:
		return "query_sm"
	case QuerySMRespID:
		return "query_sm_resp"
	case SubmitSMID:
		return "submit_sm"
	case SubmitSMRespID:
		return "submit_sm_resp"
	case DeliverSMID:
		return "deliver_sm"
	case DeliverSMRespID:
		return "deliver_sm_resp"
	case UnbindID:
		return "unbind"
	case UnbindRespID:
		return "unbind_resp"
	case ReplaceSMID:
		return "replace_sm"
	case ReplaceSMRespID:
		return "replace_sm_resp"
	case CancelSMID:
		return "cancel_sm"
	case CancelSMRespID:
		return "cancel_sm_resp"
	case BindTransceiverID:
		return "bind_transceiver"
	case BindTransceiverRespID:
		return "bind_transceiver_resp"
	case OutbindID:
		return "outbind"
	case EnquireLinkID:
		return "enquire_link"
	case EnquireLinkRespID:
		return "enquire_link_resp"
	case SubmitMultiID:
		return "submit_multi"
	case SubmitMultiRespID:
		return "submit_multi_resp"
	case AlertNotificationID:
		return "alert_notification"
	case DataSMID:
		return "data_sm"
	case DataSMRespID:
		return "data_sm_resp"
	}
	return ""
}

// String returns the spec name ("submit_sm"); unknown ids print as
// "0x%08x" (that path allocates, the known path does not).
func (c CommandID) String() string {
	if n := c.name(); n != "" {
		return n
	}
	return hex32(uint32(c), 8)
}

// hex32 formats v as 0x followed by exactly digits hex digits (cold path).
func hex32(v uint32, digits int) string {
	const hexd = "0123456789abcdef"
	var b [10]byte
	b[0], b[1] = '0', 'x'
	for i := 0; i < digits; i++ {
		b[1+digits-i] = hexd[v&0xF]
		v >>= 4
	}
	return string(b[:2+digits])
}

// Interface versions (bind interface_version, sc_interface_version TLV).
const (
	InterfaceVersion33 uint8 = 0x33
	InterfaceVersion34 uint8 = 0x34
)

// Header constants.
const (
	// HeaderLen is the size of the PDU header.
	HeaderLen = 16
	// DefaultMaxPDULen covers a 254-destination submit_multi (6438 octets)
	// plus a 65535-octet message_payload TLV.
	DefaultMaxPDULen = 72 * 1024
	// MaxShortMessage is the largest sm_length.
	MaxShortMessage = 254
	// MaxDests is the largest number_of_dests in submit_multi.
	MaxDests = 254
	// MaxUnsuccess is the largest no_unsuccess (one octet).
	MaxUnsuccess = 255
)

// esm_class bits (SMPP 3.4 §5.2.12).
const (
	ESMClassModeMask            uint8 = 0x03
	ESMClassModeDefault         uint8 = 0x00
	ESMClassModeDatagram        uint8 = 0x01
	ESMClassModeForward         uint8 = 0x02
	ESMClassModeStoreAndForward uint8 = 0x03
	ESMClassTypeMask            uint8 = 0x3C
	ESMClassTypeNormal          uint8 = 0x00
	ESMClassDeliveryReceipt     uint8 = 0x04
	ESMClassSMEDeliveryAck      uint8 = 0x08
	ESMClassSMEManualAck        uint8 = 0x10
	ESMClassConversationAbort   uint8 = 0x18
	ESMClassIntermediate        uint8 = 0x20
	ESMClassUDHI                uint8 = 0x40
	ESMClassReplyPath           uint8 = 0x80
)

// registered_delivery bits (SMPP 3.4 §5.2.17).
const (
	RegisteredDeliveryReceiptMask      uint8 = 0x03
	RegisteredDeliveryNone             uint8 = 0x00
	RegisteredDeliveryReceipt          uint8 = 0x01 // on success or failure
	RegisteredDeliveryReceiptOnFailure uint8 = 0x02
	RegisteredDeliverySMEAckMask       uint8 = 0x0C
	RegisteredDeliverySMEAck           uint8 = 0x04
	RegisteredDeliverySMEManualAck     uint8 = 0x08
	RegisteredDeliverySMEAckBoth       uint8 = 0x0C
	RegisteredDeliveryIntermediate     uint8 = 0x10
	RegisteredDeliveryReservedMask     uint8 = 0xE0 // bits 7-5
)

// data_coding values (SMPP 3.4 §5.2.19).
const (
	DataCodingDefault     uint8 = 0x00 // SMSC default alphabet
	DataCodingIA5         uint8 = 0x01
	DataCodingOctet2      uint8 = 0x02 // octet unspecified
	DataCodingLatin1      uint8 = 0x03
	DataCodingBinary      uint8 = 0x04 // octet unspecified (GSM 8-bit)
	DataCodingJIS         uint8 = 0x05
	DataCodingCyrillic    uint8 = 0x06
	DataCodingLatinHebrew uint8 = 0x07
	DataCodingUCS2        uint8 = 0x08
	DataCodingPictogram   uint8 = 0x09
	DataCodingISO2022JP   uint8 = 0x0A
	DataCodingExtKanjiJIS uint8 = 0x0D
	DataCodingKSC5601     uint8 = 0x0E
	DataCodingFlashGSM7   uint8 = 0xF0 // GSM7 class 0
)

// Other small enumerations (SMPP 3.4 §5.2.14, §5.2.18, §5.2.4, §5.2.25).
const (
	PriorityFlagMax          uint8 = 3
	ReplaceIfPresentNo       uint8 = 0
	ReplaceIfPresentYes      uint8 = 1
	DestFlagSMEAddress       uint8 = 1
	DestFlagDistributionList uint8 = 2
)

// TON values (SMPP 3.4 §5.2.5).
const (
	TONUnknown          uint8 = 0
	TONInternational    uint8 = 1
	TONNational         uint8 = 2
	TONNetworkSpecific  uint8 = 3
	TONSubscriberNumber uint8 = 4
	TONAlphanumeric     uint8 = 5
	TONAbbreviated      uint8 = 6
)

// NPI values (SMPP 3.4 §5.2.6). 2 is undefined there, although some
// libraries use it for ISDN.
const (
	NPIUnknown     uint8 = 0
	NPIISDN        uint8 = 1 // E.163/E.164
	NPIData        uint8 = 3 // X.121
	NPITelex       uint8 = 4 // F.69
	NPILandMobile  uint8 = 6 // E.212
	NPINational    uint8 = 8
	NPIPrivate     uint8 = 9
	NPIERMES       uint8 = 10
	NPIInternet    uint8 = 14
	NPIWAPClientID uint8 = 18
)

// MessageState is the query_sm_resp field and message_state TLV (SMPP 3.4
// §5.2.28, §5.3.2.35).
type MessageState uint8

// message_state values.
const (
	MessageStateEnroute       MessageState = 1
	MessageStateDelivered     MessageState = 2
	MessageStateExpired       MessageState = 3
	MessageStateDeleted       MessageState = 4
	MessageStateUndeliverable MessageState = 5
	MessageStateAccepted      MessageState = 6
	MessageStateUnknown       MessageState = 7
	MessageStateRejected      MessageState = 8
)

// String returns the spec name ("DELIVERED"); others print as 0x%02x.
func (m MessageState) String() string {
	switch m {
	case MessageStateEnroute:
		return "ENROUTE"
	case MessageStateDelivered:
		return "DELIVERED"
	case MessageStateExpired:
		return "EXPIRED"
	case MessageStateDeleted:
		return "DELETED"
	case MessageStateUndeliverable:
		return "UNDELIVERABLE"
	case MessageStateAccepted:
		return "ACCEPTED"
	case MessageStateUnknown:
		return "UNKNOWN"
	case MessageStateRejected:
		return "REJECTED"
	}
	return hex32(uint32(m), 2)
}

// ReceiptStat returns the 7-letter receipt "stat:" word (DELIVRD, UNDELIV,
// ...), or "" for values outside the v3.4 set.
func (m MessageState) ReceiptStat() string {
	switch m {
	case MessageStateEnroute:
		return "ENROUTE"
	case MessageStateDelivered:
		return "DELIVRD"
	case MessageStateExpired:
		return "EXPIRED"
	case MessageStateDeleted:
		return "DELETED"
	case MessageStateUndeliverable:
		return "UNDELIV"
	case MessageStateAccepted:
		return "ACCEPTD"
	case MessageStateUnknown:
		return "UNKNOWN"
	case MessageStateRejected:
		return "REJECTD"
	}
	return ""
}
