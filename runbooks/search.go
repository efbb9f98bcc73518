package runbooks

import (
	"sort"
	"strings"
	"unicode"
)

// Search tiers, best first.
const (
	tierExactID = iota
	tierExactName
	tierIDPrefix
	tierNamePrefix
	tierSubstring
	tierWords
	tierFuzzy
	tierText
	noMatch
)

// entry holds a runbook's normalized search fields.
type entry struct {
	rb    *Runbook
	id    string   // normalized id ("service down")
	names []string // normalized title and aliases
	words []string // words of id, title and aliases
	text  string   // normalized scenario and first response
}

func newEntry(rb *Runbook) entry {
	e := entry{rb: rb, id: normalizeSearch(rb.ID)}
	e.names = append(e.names, normalizeSearch(rb.Title))
	for _, a := range rb.Aliases {
		e.names = append(e.names, normalizeSearch(a))
	}
	seen := map[string]bool{}
	for _, n := range append([]string{e.id}, e.names...) {
		for _, w := range strings.Fields(n) {
			if !seen[w] {
				seen[w] = true
				e.words = append(e.words, w)
			}
		}
	}
	e.text = normalizeSearch(rb.Scenario + " " + rb.FirstResponse)
	return e
}

// normalizeSearch lower-cases s and turns punctuation into single spaces, so
// "Service-Down", "service_down" and "service down" compare equal.
func normalizeSearch(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}

// Search returns up to limit runbooks for a partly typed query, best first,
// for Discord autocomplete. Ranking: exact id; exact title or alias; id
// prefix; title/alias/word prefix; substring of id, title or alias; every
// query word a prefix or substring of a word; typo-tolerant match (letters in
// order, e.g. "srv down", or one or two typos, e.g. "ddso"); finally words of
// the scenario or first response. Ties go by priority, then id. An empty
// query returns All. limit <= 0 means no limit.
func (s *Set) Search(query string, limit int) []*Runbook {
	if s == nil {
		return nil
	}
	q := normalizeSearch(query)
	var out []*Runbook
	if q == "" {
		out = s.All()
	} else {
		type hit struct {
			i, tier, cost int
		}
		var hits []hit
		qWords := strings.Fields(q)
		for i := range s.index {
			if tier, cost := s.index[i].score(q, qWords); tier < noMatch {
				hits = append(hits, hit{i, tier, cost})
			}
		}
		sort.SliceStable(hits, func(a, b int) bool { // index is in priority, id order
			if hits[a].tier != hits[b].tier {
				return hits[a].tier < hits[b].tier
			}
			return hits[a].cost < hits[b].cost
		})
		for _, h := range hits {
			out = append(out, s.index[h.i].rb)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// score returns the best tier at which q matches e, and a cost to order
// matches within the tier (lower is better).
func (e *entry) score(q string, qWords []string) (tier, cost int) {
	if q == e.id {
		return tierExactID, 0
	}
	for _, n := range e.names {
		if q == n {
			return tierExactName, 0
		}
	}
	if strings.HasPrefix(e.id, q) {
		return tierIDPrefix, len(e.id) - len(q)
	}
	for _, n := range e.names {
		if strings.HasPrefix(n, q) {
			return tierNamePrefix, 0
		}
	}
	for _, w := range e.words {
		if strings.HasPrefix(w, q) {
			return tierNamePrefix, 1
		}
	}
	best := -1
	for _, n := range append([]string{e.id}, e.names...) {
		if i := strings.Index(n, q); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best >= 0 {
		return tierSubstring, best
	}
	if c, ok := e.wordsMatch(qWords, false); ok {
		return tierWords, c
	}
	if c, ok := e.wordsMatch(qWords, true); ok {
		return tierFuzzy, c
	}
	compact := strings.ReplaceAll(q, " ", "")
	if len([]rune(compact)) >= 2 {
		for _, n := range append([]string{e.id}, e.names...) {
			if c, ok := subsequence(compact, n); ok {
				return tierFuzzy, 10 + c
			}
		}
	}
	if len(q) >= 3 {
		all := true
		for _, w := range qWords {
			if !strings.Contains(e.text, w) {
				all = false
				break
			}
		}
		if all {
			return tierText, 0
		}
	}
	return noMatch, 0
}

// wordsMatch reports whether every query word matches some word of e: as a
// prefix or substring, or, when fuzzy, with letters in order or small typos.
// The cost adds up how loose each word's match was.
func (e *entry) wordsMatch(qWords []string, fuzzy bool) (int, bool) {
	total := 0
	for _, qw := range qWords {
		best := -1
		for _, w := range e.words {
			c := -1
			switch {
			case strings.HasPrefix(w, qw):
				c = 0
			case strings.Contains(w, qw):
				c = 1
			case !fuzzy:
			default:
				c = fuzzyWord(qw, w)
			}
			if c >= 0 && (best < 0 || c < best) {
				best = c
			}
		}
		if best < 0 {
			return 0, false
		}
		total += best
	}
	return total, true
}

// fuzzyWord matches a typed word against a word: letters in order starting at
// the word's first letter ("srv" → "service"), or a few typos against the
// word or the same-length start of it ("ddso" → "ddos", "atack" → "attack").
// It returns a cost, or -1.
func fuzzyWord(qw, w string) int {
	qr := []rune(qw)
	if len(qr) >= 2 {
		if c, ok := subsequence(qw, w); ok {
			return 2 + c
		}
	}
	allowed := 0
	switch {
	case len(qr) >= 7:
		allowed = 2
	case len(qr) >= 3:
		allowed = 1
	}
	if allowed == 0 {
		return -1
	}
	wr := []rune(w)
	d := editDistance(qw, w)
	if len(wr) > len(qr) {
		if dp := editDistance(qw, string(wr[:len(qr)])); dp < d {
			d = dp
		}
	}
	if d <= allowed {
		return 5 + 5*d
	}
	return -1
}

// subsequence reports whether the runes of q appear in s in order, the first
// one at the start of a word of s. The cost is the number of skipped runes.
func subsequence(q, s string) (int, bool) {
	qr, sr := []rune(q), []rune(s)
	if len(qr) == 0 || len(qr) > len(sr) {
		return 0, false
	}
	for start := 0; start < len(sr); start++ {
		if sr[start] != qr[0] || (start > 0 && sr[start-1] != ' ') {
			continue
		}
		j, skipped := 1, 0
		for k := start + 1; k < len(sr) && j < len(qr); k++ {
			if sr[k] == qr[j] {
				j++
			} else if sr[k] != ' ' {
				skipped++
			}
		}
		if j == len(qr) {
			return skipped, true
		}
	}
	return 0, false
}

// editDistance is the optimal-string-alignment distance (Levenshtein plus
// adjacent transpositions) between a and b, counted in runes.
func editDistance(a, b string) int {
	ar, br := []rune(a), []rune(b)
	prev2 := make([]int, len(br)+1)
	prev := make([]int, len(br)+1)
	cur := make([]int, len(br)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ar); i++ {
		cur[0] = i
		for j := 1; j <= len(br); j++ {
			cost := 1
			if ar[i-1] == br[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ar[i-1] == br[j-2] && ar[i-2] == br[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(br)]
}
