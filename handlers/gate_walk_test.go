package handlers_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/marola-rp/klaxon/bot/customid"
	"github.com/marola-rp/klaxon/handlers"
)

// allRoutes registers every feature's handlers, as serve does.
func allRoutes() *handlers.Interactions {
	x := &handlers.Interactions{}
	(&handlers.Alerts{}).Register(x)
	(&handlers.OnCall{}).Register(x)
	(&handlers.Incidents{}).Register(x)
	(&handlers.Calendar{}).Register(x)
	(&handlers.Runbooks{}).Register(x)
	(&handlers.Postmortems{}).Register(x)
	(&handlers.HeartbeatCommands{}).Register(x)
	return x
}

// TestEveryRouteDeclaresAnAction fails on a route whose action the gate
// does not know, and on a route allowed from DMs that is not a page's
// Acknowledge. (TestCommandsAndRoutesMatch checks that every command path,
// autocompleted option and custom_id prefix reaches a route.)
func TestEveryRouteDeclaresAnAction(t *testing.T) {
	x := allRoutes()
	for _, r := range x.Routes() {
		if _, ok := handlers.KindOf(r.Action); !ok {
			t.Errorf("%s %q declares action %q, which the gate does not know", r.Type, r.Key, r.Action)
		}
		// Only what is addressed to a person may be used from a DM.
		if r.DM && !(r.Type == "component" && r.Key == customid.AlertAck) {
			t.Errorf("%s %q is allowed from DMs; only a page's Acknowledge is", r.Type, r.Key)
		}
	}
}

// TestCustomIDsAreNamedConstants fails on a custom_id built from a string
// literal prefix anywhere in the module's code: prefixes are bot/customid's
// constants, which the routes use too.
func TestCustomIDsAreNamedConstants(t *testing.T) {
	re := regexp.MustCompile(`CustomID:\s*(?:fmt\.Sprintf\()?"([A-Za-z]+):`)
	files := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != ".." || d.Name() == "testdata" || d.Name() == "vendor") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			t.Errorf("%s builds a custom_id with the literal prefix %q: use a bot/customid constant", path, m[1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Errorf("read only %d files", files)
	}
}

func TestRegisterRefusesARouteWithoutAction(t *testing.T) {
	for _, act := range []handlers.Action{"", "alert.everything"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registering a route with action %q did not panic", act)
				}
			}()
			(&handlers.Interactions{}).Component("x", act, nil)
		}()
	}
}
