package postmortem

import (
	"github.com/marola-rp/klaxon/bot"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redaction by value. Alert text is written by whoever wrote the alerting
// rules and by the systems they watch, and timeline notes by responders in a
// hurry: a DSN with its password, a URL with its signature, a pasted
// "Authorization: Bearer …" header or an API key can sit in any of them,
// under a label name that says nothing. ScrubSecrets removes what has the
// shape of a secret wherever it is; the label-name rules
// (Policy.Sensitive) come on top.

// secretRule is one shape of secret. The match of re is replaced by
// Redacted, keeping submatch keep in front of it (the name in name=value,
// the scheme in "Bearer x") and submatch tail after it.
type secretRule struct {
	name string // what it finds, for the reader
	re   *regexp.Regexp
	keep int // submatch kept before Redacted; 0 keeps nothing
	// tail is a submatch kept after Redacted (the "@" and host of a DSN); 0 none.
	tail int
	// check, when set, must accept the match (keep part and secret part,
	// submatch secret) for the rule to apply, e.g. "has a digit" for a blob
	// after the word key.
	check  func(kept, secret string) bool
	secret int
}

// Names that mark the value after them as secret, in name=value and
// name: value. A longer name counts when the word ends it or is followed by
// _ or - (db_password, X-Api-Key, client_secret, auth_token, token_value),
// not when it merely starts it ("passed: 120", "tokens: 5", "author: Ana").
const secretName = `(?:[\w.-]*?(?:\b|_|-))?(?:pass|password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth|authorization|signature|session[_-]?(?:id|token|key)|cookie)(?:[_-][\w-]*)?`

var secretRules = []secretRule{
	{name: "private key block", re: regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)`)},
	// scheme://user:password@host: the password goes, the user and host stay.
	{name: "URL credentials", re: regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)([^\s@/]+)(@)`), keep: 1, tail: 3},
	// user:password@host without a scheme (Go's MySQL DSN user:pw@tcp(db:3306)/x, scp, …).
	{name: "DSN credentials", re: regexp.MustCompile(`(\b[A-Za-z0-9._%-]+:)([^\s:@/'"]+)(@[A-Za-z0-9(\[])`), keep: 1, tail: 3},
	// Query parameters whose name says secret, also X-Amz-Signature, sig=, code=.
	{name: "URL query secret", re: regexp.MustCompile(`(?i)([?&;](?:[\w.-]*(?:token|key|sig|signature|secret|password|passwd|pwd|auth|credential|code|session)[\w.-]*)=)([^&#\s"'<>]+)`), keep: 1},
	// HTTP authorization values: after Bearer any 8 characters or more; after
	// the other scheme words, which are also ordinary words ("bot
	// restarted"), only a value with a digit.
	{name: "authorization value", re: regexp.MustCompile(`(?i)(\b(bearer|basic|digest|token|bot)\s+)([A-Za-z0-9._~+/=-]{8,})`), keep: 1,
		secret: 3, check: func(kept, v string) bool {
			return strings.HasPrefix(strings.ToLower(kept), "bearer") || hasDigit(v)
		}},
	// Well-known key shapes, whatever surrounds them.
	{name: "OpenAI/Anthropic key", re: regexp.MustCompile(`\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}`)},
	{name: "Stripe key", re: regexp.MustCompile(`\b[rsp]k_(?:live|test)_[A-Za-z0-9]{16,}`)},
	{name: "GitHub token", re: regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})`)},
	{name: "GitLab token", re: regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`)},
	{name: "Slack token", re: regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
	{name: "Slack webhook", re: regexp.MustCompile(`hooks\.slack\.com/services/[A-Za-z0-9/]+`)},
	{name: "Discord webhook", re: regexp.MustCompile(`(discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/)([A-Za-z0-9_-]+)`), keep: 1},
	{name: "AWS access key id", re: regexp.MustCompile(`\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b`)},
	{name: "Google API key", re: regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}`)},
	{name: "Twilio API key", re: regexp.MustCompile(`\bSK[0-9a-f]{32}\b`)},
	{name: "JWT", re: regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
	// A Discord bot token: base64 user id . timestamp . HMAC.
	{name: "Discord token", re: regexp.MustCompile(`\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}`)},
	// name=value, name: value, "name": "value" where the name says secret.
	{name: "secret assignment", re: regexp.MustCompile(`(?i)(\b` + secretName + `["']?\s*(?:=|:)\s*["']?)([^\s"'&,;)}\]]+)`), keep: 1,
		secret: 2, check: assignedSecret},
	// "the key is 3f9a…", "secret 9c1b…", "token: …": a long hex or base64 blob after key/secret/token.
	{name: "blob after key", re: regexp.MustCompile(`(?i)(\b(?:key|secret|token|password|passwd|pwd)\b(?:\s+(?:is|was|=|:))?\s+["']?)([A-Za-z0-9+/_-]{16,}={0,2})`), keep: 1,
		secret: 2, check: func(_, v string) bool { return hasDigit(v) }},
	{name: "e-mail address", re: regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)},
}

// ScrubSecrets replaces everything in s that has the shape of a secret or
// of an e-mail address with Redacted: private keys, passwords in URLs and
// DSNs (user:pass@host), secret URL query parameters (?token=, &sig=, …),
// HTTP authorization values (Bearer …), well-known API-key shapes (sk-…,
// ghp_…, xoxb-…, AKIA…, AIza…, JWTs, Discord tokens, webhook URLs), values
// of name=value pairs whose name says password, secret, token or key, and
// long hex or base64 blobs after those words. The rest of s is untouched.
func ScrubSecrets(s string) string {
	if s == "" {
		return s
	}
	for _, r := range secretRules {
		s = r.apply(s)
	}
	return s
}

func (r secretRule) apply(s string) string {
	if r.keep == 0 && r.tail == 0 && r.check == nil {
		return r.re.ReplaceAllLiteralString(s, Redacted)
	}
	var b strings.Builder
	last := 0
	for _, m := range r.re.FindAllStringSubmatchIndex(s, -1) {
		if r.check != nil {
			kept := ""
			if r.keep > 0 && m[2*r.keep] >= 0 {
				kept = s[m[2*r.keep]:m[2*r.keep+1]]
			}
			if lo, hi := m[2*r.secret], m[2*r.secret+1]; lo >= 0 && !r.check(kept, s[lo:hi]) {
				continue
			}
		}
		b.WriteString(s[last:m[0]])
		if r.keep > 0 && m[2*r.keep] >= 0 {
			b.WriteString(s[m[2*r.keep]:m[2*r.keep+1]])
		}
		b.WriteString(Redacted)
		if r.tail > 0 && m[2*r.tail] >= 0 {
			b.WriteString(s[m[2*r.tail]:m[2*r.tail+1]])
		}
		last = m[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

// proseValues are what follows "password:" or "token:" in a sentence
// rather than in a configuration ("password: expired").
var proseValues = map[string]bool{"changed": true, "expired": true, "reset": true, "rotated": true, "required": true,
	"invalid": true, "missing": true, "wrong": true, "incorrect": true, "none": true, "null": true, "empty": true, "unset": true,
	"leaked": true, "revoked": true, "updated": true, "ok": true, "true": true, "false": true, "yes": true, "no": true}

var authSchemes = map[string]bool{"bearer": true, "basic": true, "digest": true, "token": true, "bot": true}

// assignedSecret decides a name=value or name: value match: with = or a
// quoted name (JSON, YAML with quotes) the value is a secret; after a bare
// "name:" a word such as "expired" is prose and stays.
func assignedSecret(kept, v string) bool {
	if strings.HasPrefix(v, "[redacted") || authSchemes[strings.ToLower(v)] {
		return false // "Authorization: Bearer [redacted]": the scheme stays
	}
	if strings.ContainsAny(kept, "=\"'") {
		return true
	}
	return !proseValues[strings.ToLower(strings.TrimRight(v, ".!"))]
}

// pseudonyms stands in for the people in a record: every Discord user gets
// "responder N", the same N wherever they appear — as a mention <@id>, by
// id, or by their user name — so that a narrative can still say who did
// what without saying who they are.
type pseudonyms struct {
	byKey map[string]string // lower-case name or user id → pseudonym
	n     int
	words *regexp.Regexp // the known names and ids, longest first; nil when none
}

func newPseudonyms() *pseudonyms { return &pseudonyms{byKey: map[string]string{}} }

// add records a person (an actor with a Discord user id; Klaxon itself and
// Alertmanager have none).
func (p *pseudonyms) add(a bot.Actor) {
	if a.UserID == "" {
		return
	}
	p.person(a.UserID, a.Name)
}

func (p *pseudonyms) person(id string, names ...string) string {
	keys := append([]string{id}, names...)
	name := ""
	for _, k := range keys {
		if v, ok := p.byKey[strings.ToLower(strings.TrimSpace(k))]; ok && k != "" {
			name = v
			break
		}
	}
	if name == "" {
		p.n++
		name = "responder " + strconv.Itoa(p.n)
	}
	for _, k := range keys {
		if k = strings.ToLower(strings.TrimSpace(k)); utf8.RuneCountInString(k) >= 2 {
			p.byKey[k] = name
		}
	}
	p.words = nil
	return name
}

var (
	// @handle as people type it; e-mail addresses are gone by the time it runs.
	// Only at the start or after a space or an opening bracket or quote, so
	// that "user:[redacted]@db.internal" stays.
	atHandle = regexp.MustCompile(`(^|[\s(,;"'])@([\p{L}\p{N}_.]{2,32})`)
)

// text replaces mentions, @handles, and the known names and ids in s.
func (p *pseudonyms) text(s string) string {
	s = bot.ReplaceUserRefs(s, func(id string) string { return p.person(id) })
	s = atHandle.ReplaceAllStringFunc(s, func(m string) string {
		sub := atHandle.FindStringSubmatch(m)
		if sub[2] == "everyone" || sub[2] == "here" {
			return m
		}
		name, ok := p.byKey[strings.ToLower(sub[2])]
		if !ok {
			name = "[user]"
		}
		return sub[1] + name
	})
	return p.replaceKnown(s)
}

// replaceKnown replaces whole-word occurrences of known names and ids,
// case-insensitively. Word boundaries are Unicode letters and digits, so
// "ana" in "banana" or "Jörg" in "Jörgen" stays.
func (p *pseudonyms) replaceKnown(s string) string {
	if len(p.byKey) == 0 {
		return s
	}
	if p.words == nil {
		keys := make([]string, 0, len(p.byKey))
		for k := range p.byKey {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if len(keys[i]) != len(keys[j]) {
				return len(keys[i]) > len(keys[j])
			}
			return keys[i] < keys[j]
		})
		for i, k := range keys {
			keys[i] = regexp.QuoteMeta(k)
		}
		p.words = regexp.MustCompile(`(?i)(?:` + strings.Join(keys, "|") + `)`)
	}
	var b strings.Builder
	last := 0
	for _, m := range p.words.FindAllStringIndex(s, -1) {
		name, ok := p.byKey[strings.ToLower(s[m[0]:m[1]])]
		if !ok || !boundary(s, m[0], m[1]) {
			continue
		}
		b.WriteString(s[last:m[0]])
		b.WriteString(name)
		last = m[1]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func boundary(s string, lo, hi int) bool {
	word := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }
	if lo > 0 {
		if r, _ := utf8.DecodeLastRuneInString(s[:lo]); word(r) {
			return false
		}
	}
	if hi < len(s) {
		if r, _ := utf8.DecodeRuneInString(s[hi:]); word(r) {
			return false
		}
	}
	return true
}
