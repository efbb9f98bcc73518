package amtest

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestRunWithoutBinaryFails(t *testing.T) {
	_, err := Run(context.Background(), "route: {receiver: x}\nreceivers: [{name: x}]\n", Options{Binary: "/nonexistent/alertmanager"})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/alertmanager") {
		t.Fatalf("Run with a missing binary: %v", err)
	}
	if !strings.Contains(ErrNoBinary.Error(), "apt-get install -y prometheus-alertmanager") {
		t.Errorf("ErrNoBinary does not say how to install Alertmanager: %v", ErrNoBinary)
	}
}

func TestRunAndClose(t *testing.T) {
	bin := Require(t)
	in, err := Run(context.Background(), "route: {receiver: x}\nreceivers: [{name: x}]\n", Options{Binary: bin, LogLevel: "info"})
	if err != nil {
		t.Fatal(err)
	}
	dir := in.dir
	if in.Pid() <= 0 || !strings.HasPrefix(in.URL, "http://127.0.0.1:") {
		t.Errorf("instance = %+v", in)
	}
	if err := in.Push(context.Background(), Alert{Labels: map[string]string{"alertname": "X"}}); err != nil {
		t.Errorf("push: %v", err)
	}
	if err := in.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s behind (%v)", dir, err)
	}
	in.Close() // twice is fine
}
