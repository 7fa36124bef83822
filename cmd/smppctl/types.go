package main

import "time"

// The admin API's JSON, as smppctl reads it (docs/ADMIN.md). smppctl
// imports nothing of smppd's so it builds small and talks to any version
// that speaks the same JSON.

type sessionList struct {
	Sessions []struct {
		ID            uint64     `json:"id"`
		SystemID      string     `json:"system_id"`
		BindType      string     `json:"bind_type"`
		State         string     `json:"state"`
		Remote        string     `json:"remote"`
		TLS           bool       `json:"tls"`
		Since         time.Time  `json:"since"`
		BoundAt       *time.Time `json:"bound_at"`
		InFlight      int        `json:"in_flight"`
		DeliverWindow int        `json:"deliver_window"`
		DeliverQueued int        `json:"deliver_queued"`
		Counters      struct {
			PDUsIn    uint64 `json:"pdus_in"`
			PDUsOut   uint64 `json:"pdus_out"`
			Submits   uint64 `json:"submits"`
			Delivers  uint64 `json:"delivers"`
			Throttled uint64 `json:"throttled"`
		} `json:"counters"`
	} `json:"sessions"`
}

type user struct {
	SystemID        string   `json:"system_id"`
	Enabled         bool     `json:"enabled"`
	Active          bool     `json:"active"`
	Group           string   `json:"group"`
	BindTypes       []string `json:"bind_types"`
	MaxBinds        int      `json:"max_binds"`
	MaxBindsPerType struct {
		Transmitter int `json:"transmitter"`
		Receiver    int `json:"receiver"`
		Transceiver int `json:"transceiver"`
	} `json:"max_binds_per_type"`
	AllowIPs      []string `json:"allow_ips"`
	DefaultSource string   `json:"default_source"`
	SourceAddrs   []string `json:"source_addrs"`
	Receipts      bool     `json:"receipts"`
	Throughput    float64  `json:"throughput"`
	Burst         int      `json:"burst"`
	Balance       string   `json:"balance"`
	Quota         int64    `json:"quota"`
	QuotaUsed     int64    `json:"quota_used"`
	MaxValidity   string   `json:"max_validity"`
	MaxPriority   int      `json:"max_priority"`
	Binds         int      `json:"binds"`
	// CallbackSecret: the user's receipt callbacks are signed (the API
	// never shows the secret).
	CallbackSecret bool `json:"callback_secret"`
}

type userList struct {
	Users []user `json:"users"`
}

type connectorList struct {
	Connectors []struct {
		Name        string `json:"name"`
		Type        string `json:"type"`
		State       string `json:"state"`
		Up          bool   `json:"up"`
		Restartable bool   `json:"restartable"`
		Stats       struct {
			Queued     int    `json:"queued"`
			Submitted  uint64 `json:"submitted"`
			Accepted   uint64 `json:"accepted"`
			Refused    uint64 `json:"refused"`
			Retried    uint64 `json:"retried"`
			Expired    uint64 `json:"expired"`
			Receipts   uint64 `json:"receipts"`
			MO         uint64 `json:"mo"`
			Binds      int    `json:"binds"`
			Reconnects uint64 `json:"reconnects"`
		} `json:"stats"`
	} `json:"connectors"`
}

type routeFilters map[string]any

type routes struct {
	MT []struct {
		Name       string       `json:"name"`
		Kind       string       `json:"kind"`
		Connectors []string     `json:"connectors"`
		Weights    []int        `json:"weights"`
		Rate       float64      `json:"rate"`
		Filters    routeFilters `json:"filters"`
	} `json:"mt"`
	MO []struct {
		Name    string       `json:"name"`
		User    string       `json:"user"`
		Filters routeFilters `json:"filters"`
	} `json:"mo"`
	Connectors []string `json:"connectors"`
}
