package discordtest

import (
	"runtime"
	"testing"
	"time"
)

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New(Options{InteractionDeadline: time.Hour})
	g := s.AddGuild("g")
	ch := s.AddChannel(g, "c", 0)
	u := s.AddUser("u")
	dg, _ := s.NewSession("t")
	dg.ShouldReconnectOnError = false
	if err := dg.Open(); err != nil {
		t.Fatal(err)
	}
	s.Interact(s.SlashCommand(ch, u, "x")) // pending deadline timer
	if _, err := dg.ChannelMessageSend(ch, "hi"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_ = dg.Close()
	dg.Client.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d before, %d after close\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
