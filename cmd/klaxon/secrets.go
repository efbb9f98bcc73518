package main

import (
	"fmt"
	"os"
	"strings"
)

// secretVars are the environment variables that hold secrets. Each can
// instead name a file with NAME_FILE (a Docker or Kubernetes secret mounted
// as a file keeps the value out of `docker inspect` and the pod spec).
var secretVars = []string{
	"KLAXON_DISCORD_TOKEN",
	"KLAXON_WEBHOOK_TOKEN",
	"KLAXON_TWILIO_AUTH_TOKEN",
	"KLAXON_SMTP_PASSWORD",
	"KLAXON_HEARTBEAT_TOKEN",
	"KLAXON_LLM_API_KEY",
	"KLAXON_ADMIN_TOKEN",
}

// readSecret returns the secret name from the environment, or from the
// file that name_FILE names: its content without the trailing newline
// (one "\n" or "\r\n"; other whitespace is kept). Both set is an error, and
// so is a file that cannot be read or is empty. A file that any user may
// read or write (an "other" bit, e.g. 0644) is used, with a warning; group
// read is not warned about: Kubernetes mounts secrets root:fsGroup with group
// read (0440) for the pod's own group.
func readSecret(getenv func(string) string, name string) (value, warning string, err error) {
	direct, path := getenv(name), getenv(name+"_FILE")
	switch {
	case path == "":
		return direct, "", nil
	case direct != "":
		return "", "", fmt.Errorf("%s and %s_FILE are both set: keep one", name, name)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", "", fmt.Errorf("%s_FILE: cannot read the secret: %w", name, err)
	}
	value = string(data)
	if v, ok := strings.CutSuffix(value, "\n"); ok {
		value = strings.TrimSuffix(v, "\r")
	}
	if value == "" {
		return "", "", fmt.Errorf("%s_FILE: %s is empty", name, path)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o007 != 0 {
		warning = fmt.Sprintf("%s_FILE: %s has mode %04o: every user of this machine can read it; chmod 600 it (Kubernetes: defaultMode: 0440 on the secret volume)",
			name, path, st.Mode().Perm())
	}
	return value, warning, nil
}

// readSecrets reads every secret variable; problems name the variable (and
// the file), never the value.
func readSecrets(getenv func(string) string, file string) (map[string]string, Problems) {
	out := map[string]string{}
	var ps Problems
	for _, name := range secretVars {
		v, warn, err := readSecret(getenv, name)
		if err != nil {
			ps = append(ps, Problem{File: file, Message: err.Error()})
			continue
		}
		if warn != "" {
			ps = append(ps, Problem{File: file, Message: warn, Warning: true})
		}
		out[name] = v
	}
	return out, ps
}
