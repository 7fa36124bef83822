package codec

// Tag is a TLV (optional parameter) tag.
type Tag uint16

// v3.4 TLV tags (SMPP 3.4 §5.3.2).
const (
	TagDestAddrSubunit          Tag = 0x0005
	TagDestNetworkType          Tag = 0x0006
	TagDestBearerType           Tag = 0x0007
	TagDestTelematicsID         Tag = 0x0008
	TagSourceAddrSubunit        Tag = 0x000D
	TagSourceNetworkType        Tag = 0x000E
	TagSourceBearerType         Tag = 0x000F
	TagSourceTelematicsID       Tag = 0x0010
	TagQOSTimeToLive            Tag = 0x0017
	TagPayloadType              Tag = 0x0019
	TagAdditionalStatusInfoText Tag = 0x001D
	TagReceiptedMessageID       Tag = 0x001E
	TagMSMsgWaitFacilities      Tag = 0x0030
	TagPrivacyIndicator         Tag = 0x0201
	TagSourceSubaddress         Tag = 0x0202
	TagDestSubaddress           Tag = 0x0203
	TagUserMessageReference     Tag = 0x0204
	TagUserResponseCode         Tag = 0x0205
	TagSourcePort               Tag = 0x020A
	TagDestinationPort          Tag = 0x020B
	TagSarMsgRefNum             Tag = 0x020C
	TagLanguageIndicator        Tag = 0x020D
	TagSarTotalSegments         Tag = 0x020E
	TagSarSegmentSeqnum         Tag = 0x020F
	TagSCInterfaceVersion       Tag = 0x0210
	TagCallbackNumPresInd       Tag = 0x0302
	TagCallbackNumAtag          Tag = 0x0303
	TagNumberOfMessages         Tag = 0x0304
	TagCallbackNum              Tag = 0x0381
	TagDPFResult                Tag = 0x0420
	TagSetDPF                   Tag = 0x0421
	TagMSAvailabilityStatus     Tag = 0x0422
	TagNetworkErrorCode         Tag = 0x0423
	TagMessagePayload           Tag = 0x0424
	TagDeliveryFailureReason    Tag = 0x0425
	TagMoreMessagesToSend       Tag = 0x0426
	TagMessageState             Tag = 0x0427
	TagUSSDServiceOp            Tag = 0x0501
	TagDisplayTime              Tag = 0x1201
	TagSMSSignal                Tag = 0x1203
	TagMSValidity               Tag = 0x1204
	TagAlertOnMessageDelivery   Tag = 0x130C
	TagItsReplyType             Tag = 0x1380
	TagItsSessionInfo           Tag = 0x1383
)

// tlvSpec is one row of the TLV registry: the spec name and the value
// length rule (a known tag outside [min, max] is ESME_RINVPARLEN).
type tlvSpec struct {
	tag      Tag
	name     string
	min, max int
	lenErr   *DecodeError
}

// tlvSpecs is the registry of every v3.4 tag, indexed by tlvIndex. Lengths
// follow SMPP 3.4 §5.3.2; the telematics ids accept 1 or 2 octets (§5.3.2.7
// gives dest_telematics_id 2 and §5.3.2.8 source_telematics_id 1, peers mix
// them up).
var tlvSpecs = [...]tlvSpec{
	{tag: TagDestAddrSubunit, name: "dest_addr_subunit", min: 1, max: 1},
	{tag: TagDestNetworkType, name: "dest_network_type", min: 1, max: 1},
	{tag: TagDestBearerType, name: "dest_bearer_type", min: 1, max: 1},
	{tag: TagDestTelematicsID, name: "dest_telematics_id", min: 1, max: 2},
	{tag: TagSourceAddrSubunit, name: "source_addr_subunit", min: 1, max: 1},
	{tag: TagSourceNetworkType, name: "source_network_type", min: 1, max: 1},
	{tag: TagSourceBearerType, name: "source_bearer_type", min: 1, max: 1},
	{tag: TagSourceTelematicsID, name: "source_telematics_id", min: 1, max: 2},
	{tag: TagQOSTimeToLive, name: "qos_time_to_live", min: 4, max: 4},
	{tag: TagPayloadType, name: "payload_type", min: 1, max: 1},
	{tag: TagAdditionalStatusInfoText, name: "additional_status_info_text", min: 1, max: 256},
	{tag: TagReceiptedMessageID, name: "receipted_message_id", min: 1, max: 65},
	{tag: TagMSMsgWaitFacilities, name: "ms_msg_wait_facilities", min: 1, max: 1},
	{tag: TagPrivacyIndicator, name: "privacy_indicator", min: 1, max: 1},
	{tag: TagSourceSubaddress, name: "source_subaddress", min: 2, max: 23},
	{tag: TagDestSubaddress, name: "dest_subaddress", min: 2, max: 23},
	{tag: TagUserMessageReference, name: "user_message_reference", min: 2, max: 2},
	{tag: TagUserResponseCode, name: "user_response_code", min: 1, max: 1},
	{tag: TagSourcePort, name: "source_port", min: 2, max: 2},
	{tag: TagDestinationPort, name: "destination_port", min: 2, max: 2},
	{tag: TagSarMsgRefNum, name: "sar_msg_ref_num", min: 2, max: 2},
	{tag: TagLanguageIndicator, name: "language_indicator", min: 1, max: 1},
	{tag: TagSarTotalSegments, name: "sar_total_segments", min: 1, max: 1},
	{tag: TagSarSegmentSeqnum, name: "sar_segment_seqnum", min: 1, max: 1},
	{tag: TagSCInterfaceVersion, name: "sc_interface_version", min: 1, max: 1},
	{tag: TagCallbackNumPresInd, name: "callback_num_pres_ind", min: 1, max: 1},
	{tag: TagCallbackNumAtag, name: "callback_num_atag", min: 1, max: 65},
	{tag: TagNumberOfMessages, name: "number_of_messages", min: 1, max: 1},
	{tag: TagCallbackNum, name: "callback_num", min: 4, max: 19},
	{tag: TagDPFResult, name: "dpf_result", min: 1, max: 1},
	{tag: TagSetDPF, name: "set_dpf", min: 1, max: 1},
	{tag: TagMSAvailabilityStatus, name: "ms_availability_status", min: 1, max: 1},
	{tag: TagNetworkErrorCode, name: "network_error_code", min: 3, max: 3},
	{tag: TagMessagePayload, name: "message_payload", min: 0, max: 65535},
	{tag: TagDeliveryFailureReason, name: "delivery_failure_reason", min: 1, max: 1},
	{tag: TagMoreMessagesToSend, name: "more_messages_to_send", min: 1, max: 1},
	{tag: TagMessageState, name: "message_state", min: 1, max: 1},
	{tag: TagUSSDServiceOp, name: "ussd_service_op", min: 1, max: 1},
	{tag: TagDisplayTime, name: "display_time", min: 1, max: 1},
	{tag: TagSMSSignal, name: "sms_signal", min: 2, max: 2},
	{tag: TagMSValidity, name: "ms_validity", min: 1, max: 1},
	{tag: TagAlertOnMessageDelivery, name: "alert_on_message_delivery", min: 0, max: 0},
	{tag: TagItsReplyType, name: "its_reply_type", min: 1, max: 1},
	{tag: TagItsSessionInfo, name: "its_session_info", min: 2, max: 2},
}

func init() {
	for i := range tlvSpecs {
		s := &tlvSpecs[i]
		s.lenErr = newErr(StatusInvParLen, s.name, "TLV length outside the spec's range", false)
	}
}

// tlvIndex returns the registry row of t, or -1 for an unknown tag.
func tlvIndex(t Tag) int {
	switch t {
	case TagDestAddrSubunit:
		return 0
	case TagDestNetworkType:
		return 1
	case TagDestBearerType:
		return 2
	case TagDestTelematicsID:
		return 3
	case TagSourceAddrSubunit:
		return 4
	case TagSourceNetworkType:
		return 5
	case TagSourceBearerType:
		return 6
	case TagSourceTelematicsID:
		return 7
	case TagQOSTimeToLive:
		return 8
	case TagPayloadType:
		return 9
	case TagAdditionalStatusInfoText:
		return 10
	case TagReceiptedMessageID:
		return 11
	case TagMSMsgWaitFacilities:
		return 12
	case TagPrivacyIndicator:
		return 13
	case TagSourceSubaddress:
		return 14
	case TagDestSubaddress:
		return 15
	case TagUserMessageReference:
		return 16
	case TagUserResponseCode:
		return 17
	case TagSourcePort:
		return 18
	case TagDestinationPort:
		return 19
	case TagSarMsgRefNum:
		return 20
	case TagLanguageIndicator:
		return 21
	case TagSarTotalSegments:
		return 22
	case TagSarSegmentSeqnum:
		return 23
	case TagSCInterfaceVersion:
		return 24
	case TagCallbackNumPresInd:
		return 25
	case TagCallbackNumAtag:
		return 26
	case TagNumberOfMessages:
		return 27
	case TagCallbackNum:
		return 28
	case TagDPFResult:
		return 29
	case TagSetDPF:
		return 30
	case TagMSAvailabilityStatus:
		return 31
	case TagNetworkErrorCode:
		return 32
	case TagMessagePayload:
		return 33
	case TagDeliveryFailureReason:
		return 34
	case TagMoreMessagesToSend:
		return 35
	case TagMessageState:
		return 36
	case TagUSSDServiceOp:
		return 37
	case TagDisplayTime:
		return 38
	case TagSMSSignal:
		return 39
	case TagMSValidity:
		return 40
	case TagAlertOnMessageDelivery:
		return 41
	case TagItsReplyType:
		return 42
	case TagItsSessionInfo:
		return 43
	}
	return -1
}

// Known reports whether t is a v3.4 tag.
func (t Tag) Known() bool { return tlvIndex(t) >= 0 }

// String returns the spec name ("message_payload"); unknown tags print as
// "0x%04x" (that path allocates, the known path does not).
func (t Tag) String() string {
	if i := tlvIndex(t); i >= 0 {
		return tlvSpecs[i].name
	}
	return hex32(uint32(t), 4)
}
