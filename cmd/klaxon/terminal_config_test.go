package main

import (
	"strings"
	"testing"
)

// check-config's messages about admin.users, each with its exact text.
func TestCheckConfigAdminUsers(t *testing.T) {
	base := accessBase + `access:
  staff_roles: ["300000000000000000"]
admin:
  users:
`
	tests := []struct {
		name string
		doc  string
		code int
		want string
	}{
		{"valid", base + `    "400000000000000000": ["300000000000000000"]
`, 0, "klaxon.yaml: OK"},
		{"not a user id", base + `    anna: ["300000000000000000"]
`, 1, `klaxon.yaml:9: error: admin.users: "anna" is not a Discord user id (Developer Mode → right-click the user → Copy User ID)`},
		{"not a role id", base + `    "400000000000000000": ["<@&300000000000000000>"]
`, 1, `klaxon.yaml:9: error: admin.users.400000000000000000: "<@&300000000000000000>" is not a Discord role id (Server Settings → Roles → right-click → Copy Role ID)`},
		{"no roles", base + `    "400000000000000000": []
`, 0, `klaxon.yaml:9: warning: admin.users.400000000000000000 has no roles: the terminal refuses this user everything but what needs no role`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out := runCheckConfig(t, tc.doc)
			if code != tc.code || !strings.Contains(out, tc.want+"\n") {
				t.Errorf("exit %d, want %d; output:\n%s\nwant the line:\n%s", code, tc.code, out, tc.want)
			}
		})
	}
}

// The terminal finds the local server from KLAXON_HTTP_ADDR.
func TestAdminURL(t *testing.T) {
	for addr, want := range map[string]string{
		"":              "http://127.0.0.1:8080",
		":9090":         "http://127.0.0.1:9090",
		"0.0.0.0:8080":  "http://127.0.0.1:8080",
		"10.0.0.5:8080": "http://10.0.0.5:8080",
		"klaxon.lan:80": "http://klaxon.lan:80",
	} {
		if got := adminURL(addr); got != want {
			t.Errorf("adminURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
