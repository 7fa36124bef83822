package accounts

// DefaultSpec is what a user definition starts from: the value of every key
// it leaves out, in the users file ([[user]]) and in the operations API
// (POST /v1/users) alike. Enabled, password authentication, every bind
// type, receipts allowed, an unlimited balance, max_priority 3; the rest
// zero (unlimited, none).
func DefaultSpec() UserSpec {
	return UserSpec{
		Enabled:     true,
		Auth:        "password",
		BindTypes:   []string{"transmitter", "receiver", "transceiver"},
		Receipts:    true,
		Balance:     "unlimited",
		MaxPriority: 3,
	}
}
