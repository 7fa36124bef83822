package codec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// fxTables loads shared/docs/smpp34-tables.json, found by walking up from
// the working directory; the test is skipped only when it is absent.
func fxTables(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "docs", "smpp34-tables.json")
		if b, err := os.ReadFile(p); err == nil {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			return m
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared/docs/smpp34-tables.json not found above the working directory")
		}
		dir = parent
	}
}

func fxSection(t *testing.T, m map[string]json.RawMessage, key string) map[string]uint64 {
	t.Helper()
	var out map[string]uint64
	if err := json.Unmarshal(m[key], &out); err != nil || len(out) == 0 {
		t.Fatalf("section %q: %v", key, err)
	}
	return out
}

func TestConstantsMatchTables(t *testing.T) {
	m := fxTables(t)

	ids := fxSection(t, m, "command_ids")
	if len(ids) != 27 {
		t.Fatalf("%d command ids in JSON", len(ids))
	}
	known := 0
	for name, v := range ids {
		c := CommandID(v)
		if c.String() != name || !c.Known() {
			t.Errorf("command id 0x%08x: String %q Known %v, JSON says %q", v, c.String(), c.Known(), name)
		}
	}
	for id := uint64(0); id < 0x400; id++ {
		for _, c := range []CommandID{CommandID(id), CommandID(id | responseBit)} {
			if c.Known() {
				known++
				if ids[c.String()] != uint64(c) {
					t.Errorf("%v (0x%08x) not in JSON", c, uint32(c))
				}
			}
		}
	}
	if known != len(ids) {
		t.Errorf("%d known ids in code, %d in JSON", known, len(ids))
	}
	var respFor map[string]string
	if err := json.Unmarshal(m["response_for"], &respFor); err != nil {
		t.Fatal(err)
	}
	for req, resp := range respFor {
		c := CommandID(ids[req])
		if c.Response() != CommandID(ids[resp]) || !c.HasResponse() || c.IsResponse() || !c.Response().IsResponse() {
			t.Errorf("%s: Response() = %v, want %s", req, c.Response(), resp)
		}
	}
	var none []string
	if err := json.Unmarshal(m["no_response"], &none); err != nil {
		t.Fatal(err)
	}
	for _, n := range none {
		if c := CommandID(ids[n]); c.HasResponse() || c.Response() != GenericNackID {
			t.Errorf("%s: HasResponse %v Response %v", n, c.HasResponse(), c.Response())
		}
	}
	if s := CommandID(0x0000000A).String(); s != "0x0000000a" {
		t.Errorf("unknown id prints %q", s)
	}

	sts := fxSection(t, m, "command_status")
	if len(sts) != 48 {
		t.Fatalf("%d statuses in JSON", len(sts))
	}
	for name, v := range sts {
		s := Status(v)
		if s.String() != name || !s.Known() || s.Description() == "reserved status" {
			t.Errorf("status 0x%x: %q known=%v desc=%q, JSON says %q", v, s.String(), s.Known(), s.Description(), name)
		}
	}
	for v := uint64(0); v < 0x600; v++ {
		if s := Status(v); s.Known() && sts[s.String()] != v {
			t.Errorf("status %v (0x%x) not in JSON", s, v)
		}
	}
	if s := Status(0x19).String(); s != "0x00000019" {
		t.Errorf("reserved status prints %q", s)
	}

	tags := fxSection(t, m, "tlv_tags")
	if len(tags) != 44 || len(tlvSpecs) != 44 {
		t.Fatalf("%d tags in JSON, %d in the registry", len(tags), len(tlvSpecs))
	}
	for name, v := range tags {
		tg := Tag(v)
		if tg.String() != name || !tg.Known() {
			t.Errorf("tag 0x%04x: %q, JSON says %q", v, tg.String(), name)
		}
	}
	for v := 0; v <= 0xFFFF; v++ {
		if tg := Tag(v); tg.Known() && tags[tg.String()] != uint64(v) {
			t.Errorf("tag %v (0x%04x) not in JSON", tg, v)
		}
	}
	for i, s := range tlvSpecs {
		if tlvIndex(s.tag) != i || s.min > s.max || s.lenErr == nil || s.lenErr.Status != StatusInvParLen {
			t.Errorf("registry row %d (%s) inconsistent", i, s.name)
		}
	}

	// Named constant groups against their JSON sections.
	check := func(section string, want map[string]uint64) {
		t.Helper()
		got := fxSection(t, m, section)
		for name, v := range want {
			if g, ok := got[name]; !ok || g != v {
				t.Errorf("%s.%s: code 0x%x, JSON 0x%x (present %v)", section, name, v, g, ok)
			}
		}
	}
	check("message_state", map[string]uint64{
		"ENROUTE": uint64(MessageStateEnroute), "DELIVERED": uint64(MessageStateDelivered), "EXPIRED": uint64(MessageStateExpired),
		"DELETED": uint64(MessageStateDeleted), "UNDELIVERABLE": uint64(MessageStateUndeliverable), "ACCEPTED": uint64(MessageStateAccepted),
		"UNKNOWN": uint64(MessageStateUnknown), "REJECTED": uint64(MessageStateRejected),
	})
	for name, v := range fxSection(t, m, "message_state") {
		if MessageState(v).String() != name {
			t.Errorf("MessageState(%d).String() = %q, want %q", v, MessageState(v).String(), name)
		}
	}
	var stat map[string]string
	if err := json.Unmarshal(m["receipt_stat_text"], &stat); err != nil {
		t.Fatal(err)
	}
	states := fxSection(t, m, "message_state")
	for name, word := range stat {
		if got := MessageState(states[name]).ReceiptStat(); got != word {
			t.Errorf("%s receipt stat %q, want %q", name, got, word)
		}
	}
	check("esm_class", map[string]uint64{
		"mode_mask": uint64(ESMClassModeMask), "mode_default": uint64(ESMClassModeDefault), "mode_datagram": uint64(ESMClassModeDatagram),
		"mode_forward_transaction": uint64(ESMClassModeForward), "mode_store_and_forward": uint64(ESMClassModeStoreAndForward),
		"type_mask": uint64(ESMClassTypeMask), "type_normal": uint64(ESMClassTypeNormal),
		"type_smsc_delivery_receipt": uint64(ESMClassDeliveryReceipt), "type_sme_delivery_ack": uint64(ESMClassSMEDeliveryAck),
		"type_sme_manual_user_ack": uint64(ESMClassSMEManualAck), "type_conversation_abort": uint64(ESMClassConversationAbort),
		"type_intermediate_notification": uint64(ESMClassIntermediate), "udhi": uint64(ESMClassUDHI), "reply_path": uint64(ESMClassReplyPath),
	})
	check("registered_delivery", map[string]uint64{
		"smsc_receipt_mask": uint64(RegisteredDeliveryReceiptMask), "smsc_receipt_none": uint64(RegisteredDeliveryNone),
		"smsc_receipt_success_or_failure": uint64(RegisteredDeliveryReceipt), "smsc_receipt_failure_only": uint64(RegisteredDeliveryReceiptOnFailure),
		"sme_ack_mask": uint64(RegisteredDeliverySMEAckMask), "sme_ack_delivery": uint64(RegisteredDeliverySMEAck),
		"sme_ack_manual_user": uint64(RegisteredDeliverySMEManualAck), "sme_ack_both": uint64(RegisteredDeliverySMEAckBoth),
		"intermediate_notification": uint64(RegisteredDeliveryIntermediate),
	})
	check("data_coding", map[string]uint64{
		"smsc_default": uint64(DataCodingDefault), "ia5_ascii": uint64(DataCodingIA5), "octet_unspecified_2": uint64(DataCodingOctet2),
		"latin1": uint64(DataCodingLatin1), "octet_unspecified_4": uint64(DataCodingBinary), "jis": uint64(DataCodingJIS),
		"cyrillic_iso8859_5": uint64(DataCodingCyrillic), "latin_hebrew_iso8859_8": uint64(DataCodingLatinHebrew),
		"ucs2": uint64(DataCodingUCS2), "pictogram": uint64(DataCodingPictogram), "iso2022jp_music": uint64(DataCodingISO2022JP),
		"extended_kanji_jis_x0212": uint64(DataCodingExtKanjiJIS), "ks_c_5601": uint64(DataCodingKSC5601),
	})
	check("ton", map[string]uint64{
		"unknown": uint64(TONUnknown), "international": uint64(TONInternational), "national": uint64(TONNational),
		"network_specific": uint64(TONNetworkSpecific), "subscriber_number": uint64(TONSubscriberNumber),
		"alphanumeric": uint64(TONAlphanumeric), "abbreviated": uint64(TONAbbreviated),
	})
	check("npi", map[string]uint64{
		"unknown": uint64(NPIUnknown), "isdn_e164": uint64(NPIISDN), "data_x121": uint64(NPIData), "telex_f69": uint64(NPITelex),
		"land_mobile_e212": uint64(NPILandMobile), "national": uint64(NPINational), "private": uint64(NPIPrivate),
		"ermes": uint64(NPIERMES), "internet_ip": uint64(NPIInternet), "wap_client_id": uint64(NPIWAPClientID),
	})
	check("dest_flag", map[string]uint64{"sme_address": uint64(DestFlagSMEAddress), "distribution_list": uint64(DestFlagDistributionList)})
	check("interface_version", map[string]uint64{"v3.3_or_earlier_max": uint64(InterfaceVersion33), "v3.4": uint64(InterfaceVersion34)})
	check("field_max_octets_including_nul", map[string]uint64{
		"system_id": uint64(fSystemID.max), "password": uint64(fPassword.max), "system_type": uint64(fSystemType.max),
		"address_range": uint64(fAddressRange.max), "service_type": uint64(fServiceType.max), "source_addr": uint64(fSourceAddr.max),
		"destination_addr": uint64(fDestAddr.max), "data_sm_source_addr": uint64(fSourceAddr65.max),
		"data_sm_destination_addr": uint64(fDestAddr65.max), "esme_addr": uint64(fESMEAddr.max), "dl_name": uint64(fDLName.max),
		"message_id": uint64(fMessageID.max), "schedule_delivery_time": uint64(fScheduleTime.max),
		"validity_period": uint64(fValidityPeriod.max), "final_date": uint64(fFinalDate.max),
		"short_message_octets": MaxShortMessage, "number_of_dests_max": MaxDests,
	})
}
