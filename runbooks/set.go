package runbooks

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

//go:embed defaults/*.md
var defaultsFS embed.FS

// maxFileSize bounds a runbook file; anything bigger is a mistake.
const maxFileSize = 1 << 20

// Set is an immutable collection of runbooks. Its methods are safe for
// concurrent use; a nil *Set is empty.
type Set struct {
	all   []*Runbook          // sorted by priority, then id
	byKey map[string]*Runbook // ids and aliases, lower case
	index []entry             // search data, parallel to all
}

// Load builds a Set from the embedded defaults plus every *.md file directly
// in dir (none when dir is ""; files whose name starts with "." are
// ignored). A directory file whose id equals a default's replaces that
// default. Every problem is returned as a *LoadError (file and line); broken
// files are skipped and the rest still load. A missing or unreadable dir is
// an error, but the defaults are still loaded. The Set is never nil.
func Load(dir string) (*Set, []error) {
	var errs []error
	byID := map[string]*parsed{}

	names, err := fs.Glob(defaultsFS, "defaults/*.md")
	if err != nil {
		panic(err) // the pattern is constant and valid
	}
	for _, name := range names {
		data, err := defaultsFS.ReadFile(name)
		source := "embedded:" + path.Base(name)
		if err != nil {
			errs = append(errs, &LoadError{File: source, Err: err})
			continue
		}
		p, perrs := parse(source, data)
		errs = append(errs, perrs...)
		if p == nil {
			continue
		}
		if prev, dup := byID[p.rb.ID]; dup {
			errs = append(errs, duplicateError(p, prev))
			continue
		}
		byID[p.rb.ID] = p
	}

	if dir != "" {
		errs = append(errs, loadDir(dir, byID)...)
	}

	list := make([]*parsed, 0, len(byID))
	for _, p := range byID {
		list = append(list, p)
	}
	s, serrs := newSet(list)
	return s, append(errs, serrs...)
}

// loadDir parses the *.md files in dir into byID, overriding defaults.
func loadDir(dir string, byID map[string]*parsed) []error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return []error{&LoadError{File: dir, Err: fmt.Errorf("cannot read runbook directory: %w", err)}}
	}
	var errs []error
	fromDir := map[string]*parsed{}
	for _, e := range entries { // sorted by name
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".md") || strings.HasPrefix(name, ".") {
			continue
		}
		file := filepath.Join(dir, name)
		data, err := readFile(file)
		if err != nil {
			errs = append(errs, &LoadError{File: file, Err: err})
			continue
		}
		p, perrs := parse(file, data)
		errs = append(errs, perrs...)
		if p == nil {
			continue
		}
		if prev, dup := fromDir[p.rb.ID]; dup {
			errs = append(errs, duplicateError(p, prev))
			continue
		}
		fromDir[p.rb.ID] = p
		byID[p.rb.ID] = p
	}
	return errs
}

func readFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, unwrapPath(err)
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > maxFileSize {
		return nil, fmt.Errorf("file is %d bytes; runbooks are limited to %d", st.Size(), maxFileSize)
	}
	data := make([]byte, st.Size())
	if _, err := f.ReadAt(data, 0); err != nil && st.Size() > 0 {
		return nil, unwrapPath(err)
	}
	return data, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ErrDuplicateID is wrapped by the error for a second file with an id that
// is already taken.
var ErrDuplicateID = errors.New("duplicate runbook id")

func duplicateError(p, prev *parsed) error {
	return &LoadError{File: p.rb.Source, Line: p.idLine,
		Err: fmt.Errorf("%w %q: already defined in %s:%d (this file is skipped)", ErrDuplicateID, p.rb.ID, prev.rb.Source, prev.idLine)}
}

// newSet indexes runbooks. An alias that is another runbook's id, or that two
// runbooks claim, is reported and dropped.
func newSet(list []*parsed) (*Set, []error) {
	sort.Slice(list, func(i, j int) bool { return less(list[i].rb, list[j].rb) })
	s := &Set{byKey: map[string]*Runbook{}}
	owner := map[string]*parsed{}
	for _, p := range list {
		s.byKey[p.rb.ID] = p.rb
		owner[p.rb.ID] = p
	}
	var errs []error
	for _, p := range list {
		kept := p.rb.Aliases[:0:0]
		for _, a := range p.rb.Aliases {
			line := p.aliasLines[a]
			if o, taken := owner[a]; taken {
				what := "alias"
				if o.rb.ID == a {
					what = "id"
				}
				errs = append(errs, &LoadError{File: p.rb.Source, Line: line,
					Err: fmt.Errorf("alias %q is already the %s of runbook %q (%s); alias ignored", a, what, o.rb.ID, o.rb.Source)})
				continue
			}
			owner[a] = p
			s.byKey[a] = p.rb
			kept = append(kept, a)
		}
		p.rb.Aliases = kept
		s.all = append(s.all, p.rb)
		s.index = append(s.index, newEntry(p.rb))
	}
	return s, errs
}

// less orders by priority (P0 first), then id.
func less(a, b *Runbook) bool {
	if ra, rb := priorityRank(a.Priority), priorityRank(b.Priority); ra != rb {
		return ra < rb
	}
	return a.ID < b.ID
}

// normalizeKey is the case-insensitive form of ids and aliases.
func normalizeKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), " "))
}

// Len returns the number of runbooks.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.all)
}

// Get returns the runbook with this id or alias (case-insensitive).
func (s *Set) Get(id string) (*Runbook, bool) {
	if s == nil {
		return nil, false
	}
	rb, ok := s.byKey[normalizeKey(id)]
	return rb, ok
}

// All returns every runbook, sorted by priority (P0 first) then id. The
// slice is a copy; the runbooks are shared.
func (s *Set) All() []*Runbook {
	if s == nil {
		return nil
	}
	return append([]*Runbook(nil), s.all...)
}

// Match returns the runbook for an alert's labels: among the runbooks whose
// matchers all match, the one with the most matchers, then the most urgent
// priority, then the lowest id. It returns nil if none matches.
func (s *Set) Match(lbls map[string]string) *Runbook {
	if s == nil {
		return nil
	}
	var best *Runbook
	for _, rb := range s.all { // already in priority, id order
		if rb.matches(lbls) && (best == nil || len(rb.Matchers) > len(best.Matchers)) {
			best = rb
		}
	}
	return best
}

// Resolve finds a runbook from a reference typed by a person: an id, an
// alias, or a URL or file path whose last element (without ".md") is an id,
// e.g. "https://wiki.example/runbooks/game-bug.md#steps".
func (s *Set) Resolve(ref string) (*Runbook, bool) {
	ref = strings.TrimSpace(ref)
	ref = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(ref, "<"), ">"))
	if rb, ok := s.Get(ref); ok {
		return rb, true
	}
	if i := strings.IndexAny(ref, "?#"); i >= 0 {
		ref = ref[:i]
	}
	ref = strings.TrimRight(strings.ReplaceAll(ref, `\`, "/"), "/")
	base := path.Base(ref)
	if u, err := url.PathUnescape(base); err == nil {
		base = u
	}
	if len(base) > 3 && strings.EqualFold(base[len(base)-3:], ".md") {
		base = base[:len(base)-3]
	}
	if base == "" || base == "." || base == "/" {
		return nil, false
	}
	return s.Get(base)
}
