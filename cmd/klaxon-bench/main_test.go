package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "go run ./cmd/klaxon-bench storm"},
		{[]string{"bogus"}, 2, "-groups int"},
		{[]string{"help"}, 0, "-short"},
		{[]string{"storm", "--groups", "0"}, 2, "at least 1"},
		{[]string{"storm", "extra"}, 2, "unexpected arguments"},
		{[]string{"storm", "--nope"}, 2, "flag provided but not defined"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), c.args, &out, &errb)
		if code != c.code || !strings.Contains(out.String()+errb.String(), c.want) {
			t.Errorf("run(%q) = %d, output %q; want %d and %q", c.args, code, out.String()+errb.String(), c.code, c.want)
		}
	}
}

func TestMissingAlertmanagerSaysHowToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // neither Alertmanager nor anything else
	t.Setenv("KLAXON_ALERTMANAGER", "")
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"storm", "--short"}, &out, &errb)
	if code != 3 || !strings.Contains(errb.String(), "apt-get install -y prometheus-alertmanager") {
		t.Errorf("code %d, stderr %q", code, errb.String())
	}
}
