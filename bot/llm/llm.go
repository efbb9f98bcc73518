// Package llm drafts post-mortem narratives with an OpenAI-compatible
// chat-completions endpoint (github.com/sashabaranov/go-openai): OpenAI,
// Azure OpenAI, or a local server such as Ollama or vLLM. It implements
// postmortem.Drafter. The post-mortem feature has already removed sensitive
// labels and annotations, secret-shaped values and people's names from what
// it is given (postmortem.Service.DraftInput); this package sends nothing
// else, and passes every string of the record through
// postmortem.ScrubSecrets once more on its way out. It refuses a plain-HTTP endpoint that is not on this machine
// unless AllowInsecure is set.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/marola-rp/klaxon/bot/postmortem"
	"github.com/marola-rp/klaxon/bot/text"
)

// Config says which endpoint and model to use.
type Config struct {
	BaseURL    string        // e.g. https://api.openai.com/v1, http://localhost:11434/v1 (Ollama)
	Model      string        // e.g. gpt-4o-mini, llama3.1
	APIKey     string        // may be empty for local servers
	APIType    string        // "" or "openai"; "azure" for Azure OpenAI (BaseURL is the resource endpoint)
	APIVersion string        // Azure only; default go-openai's
	Timeout    time.Duration // per request; default 60s
	MaxTokens  int           // answer limit; default 2000
	HTTPClient *http.Client  // default one with Timeout
	// AllowInsecure permits an http:// BaseURL on another machine, where the
	// incident record and the API key would cross the network in clear text
	// (llm.allow_insecure). http:// to a loopback address is always allowed.
	AllowInsecure bool
}

// CheckEndpoint returns an error when baseURL is not an http(s) URL, or is
// plain http:// to a host other than localhost or a loopback address and
// allowInsecure is false.
func CheckEndpoint(baseURL string, allowInsecure bool) error {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("llm: base_url %q is not an http(s) URL", baseURL)
	}
	if u.Scheme == "https" || allowInsecure || isLoopback(u.Hostname()) {
		return nil
	}
	return fmt.Errorf("llm: base_url %s is plain http to %s, another machine: the incident record and the API key would cross the network unencrypted; "+
		"use https, run the model server on this machine (http://localhost:…), or set llm.allow_insecure: true if the network path is trusted", baseURL, u.Hostname())
}

// isLoopback reports whether host is localhost or a loopback IP address;
// it resolves nothing.
func isLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// Client drafts post-mortem sections.
type Client struct {
	c         *openai.Client
	model     string
	maxTokens int
	timeout   time.Duration
}

var _ postmortem.Drafter = (*Client)(nil)

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("llm: no model configured (llm.model)")
	}
	if strings.TrimSpace(cfg.BaseURL) == "" {
		return nil, errors.New("llm: no base URL configured (llm.base_url), e.g. https://api.openai.com/v1 or http://localhost:11434/v1")
	}
	if err := CheckEndpoint(cfg.BaseURL, cfg.AllowInsecure); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.MaxTokens <= 0 {
		cfg.MaxTokens = 2000
	}
	var oc openai.ClientConfig
	switch strings.ToLower(cfg.APIType) {
	case "", "openai":
		oc = openai.DefaultConfig(cfg.APIKey)
		oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	case "azure":
		oc = openai.DefaultAzureConfig(cfg.APIKey, strings.TrimRight(cfg.BaseURL, "/"))
		if cfg.APIVersion != "" {
			oc.APIVersion = cfg.APIVersion
		}
	default:
		return nil, fmt.Errorf("llm: api_type %q is not one of openai, azure", cfg.APIType)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.Timeout}
	}
	oc.HTTPClient = hc
	return &Client{c: openai.NewClientWithConfig(oc), model: cfg.Model, maxTokens: cfg.MaxTokens, timeout: cfg.Timeout}, nil
}

// Model returns the configured model.
func (c *Client) Model() string { return c.model }

const systemPrompt = `You help a game-server community's operations team write blameless incident post-mortems.
You get the incident record as JSON: facts, a timeline, the alerts that fired, action items and runbooks used.
Write the narrative sections of the post-mortem in English Markdown, using only facts from the record.
Where the record does not say something (for example the root cause), say plainly that it is unknown and must be filled in by the responders, and suggest what to check; never invent causes, numbers or names.
Be blameless: describe what systems and processes did, not who is at fault.
Answer with one JSON object and nothing else, with exactly these string keys: %s.
Each value is the Markdown text of that section (no heading), at most %d characters.`

// Draft implements postmortem.Drafter with one chat completion.
func (c *Client) Draft(ctx context.Context, in postmortem.DraftInput) (*postmortem.Draft, error) {
	keys := make([]string, len(in.Sections))
	for i, s := range in.Sections {
		keys[i] = s.Key
	}
	record, err := json.MarshalIndent(recordOf(in), "", " ")
	if err != nil {
		return nil, fmt.Errorf("llm: encode the record: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req := openai.ChatCompletionRequest{
		Model: c.model,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: fmt.Sprintf(systemPrompt, strings.Join(keys, ", "), 3000)},
			{Role: openai.ChatMessageRoleUser, Content: "Incident record:\n" + string(record)},
		},
		Temperature: 0.2,
		// max_tokens, not max_completion_tokens: the OpenAI-compatible
		// servers people run beside a game server (Ollama, vLLM, llama.cpp)
		// read the older field.
		//lint:ignore SA1019 kept on purpose for OpenAI-compatible servers
		MaxTokens:      c.maxTokens,
		ResponseFormat: &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject},
	}
	resp, err := c.c.CreateChatCompletion(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("llm: %w", ctx.Err())
		}
		var apiErr *openai.APIError
		if errors.As(err, &apiErr) {
			return nil, fmt.Errorf("llm: HTTP %d: %s", apiErr.HTTPStatusCode, apiErr.Message)
		}
		return nil, fmt.Errorf("llm: %w", err)
	}
	if len(resp.Choices) == 0 {
		return nil, &postmortem.DraftRefused{Reason: "the answer had no choices"}
	}
	ch := resp.Choices[0]
	if r := strings.TrimSpace(ch.Message.Refusal); r != "" {
		return nil, &postmortem.DraftRefused{Reason: r}
	}
	if ch.FinishReason == openai.FinishReasonContentFilter {
		return nil, &postmortem.DraftRefused{Reason: "the provider's content filter stopped the answer"}
	}
	sections, err := parseSections(ch.Message.Content, keys)
	if err != nil {
		return nil, &postmortem.DraftRefused{Reason: err.Error()}
	}
	model := resp.Model
	if model == "" {
		model = c.model
	}
	return &postmortem.Draft{Sections: sections, Model: model}, nil
}

// parseSections reads the JSON object of sections, tolerating a Markdown
// code fence around it.
func parseSections(content string, keys []string) (map[string]string, error) {
	s := strings.TrimSpace(content)
	if strings.HasPrefix(s, "```") {
		s = strings.TrimPrefix(s, "```json")
		s = strings.TrimPrefix(s, "```")
		s = strings.TrimSuffix(strings.TrimSpace(s), "```")
	}
	if i, j := strings.Index(s, "{"), strings.LastIndex(s, "}"); i >= 0 && j > i {
		s = s[i : j+1]
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("the answer was not the JSON object asked for: %q", short(content, 120))
	}
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := raw[k].(string); ok && strings.TrimSpace(v) != "" {
			out[k] = strings.TrimSpace(v)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the answer had none of the sections %s", strings.Join(keys, ", "))
	}
	return out, nil
}

func short(s string, n int) string { return text.OneLine(s, n) }

// record is the JSON the model sees.
type record struct {
	Incident    string            `json:"incident"`
	Title       string            `json:"title"`
	Priority    string            `json:"priority"`
	Impact      string            `json:"impact,omitempty"`
	Services    []string          `json:"services,omitempty"`
	Times       map[string]string `json:"times"`
	Timeline    []event           `json:"timeline"`
	Alerts      []alert           `json:"alerts"`
	ActionItems []string          `json:"action_items,omitempty"`
	Runbooks    []string          `json:"runbooks_used,omitempty"`
	Template    map[string]string `json:"template_sections"`
}

type event struct {
	At   string `json:"at"`
	Kind string `json:"kind"`
	Who  string `json:"who,omitempty"`
	Text string `json:"text,omitempty"`
}

type alert struct {
	Name        string            `json:"name"`
	Priority    string            `json:"priority"`
	Status      string            `json:"status"`
	Summary     string            `json:"summary,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	FiredAt     string            `json:"fired_at,omitempty"`
	ResolvedAt  string            `json:"resolved_at,omitempty"`
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// recordOf is the JSON the model sees, every string passed through
// postmortem.ScrubSecrets: the core redacted it already, and this keeps any other
// caller of Draft from sending a secret-shaped value.
func recordOf(in postmortem.DraftInput) record {
	sc := postmortem.ScrubSecrets
	all := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = sc(s)
		}
		return out
	}
	byKey := func(m map[string]string) map[string]string {
		if m == nil {
			return nil
		}
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[sc(k)] = sc(v)
		}
		return out
	}
	r := record{Incident: sc(in.Ref), Title: sc(in.Title), Priority: sc(in.Priority), Impact: sc(in.Impact), Services: all(in.Services),
		Times: map[string]string{}, ActionItems: all(in.ActionItems), Runbooks: all(in.Runbooks), Template: byKey(in.Template),
		Timeline: []event{}, Alerts: []alert{}}
	for k, t := range map[string]time.Time{"started": in.Started, "detected": in.Detected, "acknowledged": in.Acked,
		"mitigated": in.Mitigated, "resolved": in.Resolved} {
		if s := stamp(t); s != "" {
			r.Times[k] = s
		}
	}
	for _, e := range in.Timeline {
		r.Timeline = append(r.Timeline, event{At: stamp(e.At), Kind: sc(e.Kind), Who: sc(e.Who), Text: sc(e.Text)})
	}
	for _, a := range in.Alerts {
		r.Alerts = append(r.Alerts, alert{Name: sc(a.Name), Priority: a.Priority, Status: a.Status, Summary: sc(a.Summary), Labels: byKey(a.Labels),
			Annotations: byKey(a.Annotations), FiredAt: stamp(a.FiredAt), ResolvedAt: stamp(a.ResolvedAt)})
	}
	return r
}
