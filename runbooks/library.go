package runbooks

import (
	"sync"
	"sync/atomic"
)

// Library holds the current Set for a runbook directory and reloads it.
// It is safe for concurrent use.
type Library struct {
	dir string
	mu  sync.Mutex // serializes Reload
	cur atomic.Pointer[Set]
}

// NewLibrary loads the defaults and dir (see Load). The errors are those of
// Load; the Library is usable even when there are errors, with whatever
// loaded (at least the defaults).
func NewLibrary(dir string) (*Library, []error) {
	s, errs := Load(dir)
	l := &Library{dir: dir}
	l.cur.Store(s)
	return l, errs
}

// Dir returns the runbook directory ("" for defaults only).
func (l *Library) Dir() string { return l.dir }

// Current returns the current Set. It never returns nil.
func (l *Library) Current() *Set { return l.cur.Load() }

// Reload loads the directory again. If the new load has no errors it becomes
// current and is returned. If it has any error, the current Set is kept and
// returned together with the errors, for the caller to log or announce.
func (l *Library) Reload() (*Set, []error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, errs := Load(l.dir)
	if len(errs) > 0 {
		return l.cur.Load(), errs
	}
	l.cur.Store(s)
	return s, nil
}
