package discordtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The official Discord OpenAPI 3.1 description (MIT licence, see
// testdata/LICENSE). Every request the fake receives is checked against it.
//
//go:embed testdata/openapi.json
var openapiJSON []byte

const specURL = "https://discord.test/openapi.json"

// spec is the parsed OpenAPI document plus a cache of compiled request
// schemas. It is shared by every Server in the process: the document is
// parsed once and each schema is compiled at most once.
type spec struct {
	routes []*specRoute

	mu       sync.Mutex // guards compiler and schemas
	compiler *jsonschema.Compiler
	schemas  map[string]*compiledSchema
}

type compiledSchema struct {
	sch *jsonschema.Schema
	err error
}

// specRoute is one path template of the document.
type specRoute struct {
	Template string   // e.g. /channels/{channel_id}/messages
	segs     []string // split template
	ops      map[string]*specOp
}

// specOp is one method of a path.
type specOp struct {
	ID           string
	BodyRequired bool
	// content type -> JSON pointer (URL fragment) of the body schema
	bodies map[string]string
	// query parameters (the path's and the operation's)
	query []specParam
}

// specParam is one query parameter of an operation.
type specParam struct {
	Name     string
	Required bool
	// Type is the JSON type a value is read as: "string", "integer",
	// "number" or "boolean"; "" for arrays and unions, which are not checked.
	Type string
	ptr  string // JSON pointer (URL fragment) of the parameter's schema
}

var (
	specOnce   sync.Once
	sharedSpec *spec
	specErr    error
)

func loadSpec() (*spec, error) {
	specOnce.Do(func() { sharedSpec, specErr = parseSpec(openapiJSON) })
	return sharedSpec, specErr
}

func parseSpec(raw []byte) (*spec, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("discordtest: parse openapi.json: %w", err)
	}
	var shape struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	type paramShape struct {
		Name     string          `json:"name"`
		In       string          `json:"in"`
		Required bool            `json:"required"`
		Schema   json.RawMessage `json:"schema"`
	}
	type opShape struct {
		OperationID string       `json:"operationId"`
		Parameters  []paramShape `json:"parameters"`
		RequestBody *struct {
			Required bool                       `json:"required"`
			Content  map[string]json.RawMessage `json:"content"`
		} `json:"requestBody"`
	}
	if err := json.Unmarshal(raw, &shape); err != nil {
		return nil, fmt.Errorf("discordtest: parse openapi.json paths: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(specURL, doc); err != nil {
		return nil, fmt.Errorf("discordtest: load openapi.json: %w", err)
	}
	sp := &spec{compiler: c, schemas: map[string]*compiledSchema{}}
	for tmpl, methods := range shape.Paths {
		r := &specRoute{Template: tmpl, segs: splitPath(tmpl), ops: map[string]*specOp{}}
		var pathParams []paramShape
		if rawParams, ok := methods["parameters"]; ok {
			if err := json.Unmarshal(rawParams, &pathParams); err != nil {
				return nil, fmt.Errorf("discordtest: parse openapi.json parameters of %s: %w", tmpl, err)
			}
		}
		queryParams := func(ps []paramShape, ptr ...string) []specParam {
			var out []specParam
			for i, p := range ps {
				if p.In != "query" {
					continue
				}
				out = append(out, specParam{
					Name: p.Name, Required: p.Required,
					Type: scalarType(p.Schema, shape.Components.Schemas),
					ptr:  pointer(append(ptr, strconv.Itoa(i), "schema")...),
				})
			}
			return out
		}
		for m, rawOp := range methods {
			switch m {
			case "get", "post", "put", "patch", "delete":
			default:
				continue // "parameters" and friends
			}
			var op opShape
			if err := json.Unmarshal(rawOp, &op); err != nil {
				return nil, fmt.Errorf("discordtest: parse openapi.json %s %s: %w", m, tmpl, err)
			}
			o := &specOp{ID: op.OperationID, bodies: map[string]string{}}
			o.query = append(queryParams(pathParams, "paths", tmpl, "parameters"), queryParams(op.Parameters, "paths", tmpl, m, "parameters")...)
			if op.RequestBody != nil {
				o.BodyRequired = op.RequestBody.Required
				for ct := range op.RequestBody.Content {
					o.bodies[ct] = pointer("paths", tmpl, m, "requestBody", "content", ct, "schema")
				}
			}
			r.ops[strings.ToUpper(m)] = o
		}
		sp.routes = append(sp.routes, r)
	}
	// Deterministic order; matching picks the most literal template anyway.
	sort.Slice(sp.routes, func(i, j int) bool { return sp.routes[i].Template < sp.routes[j].Template })
	return sp, nil
}

// scalarType is the JSON type of a parameter schema ("" unless it is one
// scalar type), following one $ref into components/schemas.
func scalarType(raw json.RawMessage, schemas map[string]json.RawMessage) string {
	var sch struct {
		Ref  string `json:"$ref"`
		Type any    `json:"type"`
	}
	if json.Unmarshal(raw, &sch) != nil {
		return ""
	}
	if name, ok := strings.CutPrefix(sch.Ref, "#/components/schemas/"); ok {
		return scalarType(schemas[name], nil)
	}
	switch t, _ := sch.Type.(string); t {
	case "string", "integer", "number", "boolean":
		return t
	}
	return ""
}

// pointer builds a URL fragment holding a JSON pointer to the given tokens.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		t = strings.ReplaceAll(t, "~", "~0")
		t = strings.ReplaceAll(t, "/", "~1")
		b.WriteByte('/')
		b.WriteString(url.PathEscape(t))
	}
	return b.String()
}

func splitPath(p string) []string {
	return strings.Split(strings.Trim(p, "/"), "/")
}

// match finds the route for a concrete path (without the /api/vN prefix).
// Literal segments win over parameters (…/messages/pins beats
// …/messages/{message_id}). It returns nil when nothing matches.
func (sp *spec) match(path string) (*specRoute, map[string]string) {
	segs := splitPath(path)
	var best *specRoute
	bestScore := -1
	for _, r := range sp.routes {
		if len(r.segs) != len(segs) {
			continue
		}
		score, ok := 0, true
		for i, s := range r.segs {
			if isParam(s) {
				if segs[i] == "" {
					ok = false
					break
				}
				continue
			}
			if s != segs[i] {
				ok = false
				break
			}
			// earlier literal segments weigh more
			score += 1 << (len(segs) - i)
		}
		if ok && score > bestScore {
			best, bestScore = r, score
		}
	}
	if best == nil {
		return nil, nil
	}
	params := map[string]string{}
	for i, s := range best.segs {
		if isParam(s) {
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				v = segs[i]
			}
			params[strings.Trim(s, "{}")] = v
		}
	}
	return best, params
}

func isParam(seg string) bool { return strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") }

// schemaFor returns the compiled schema for an operation body of the given
// media type (nil when the operation declares no such body).
func (sp *spec) schemaFor(op *specOp, mediaType string) (*jsonschema.Schema, error) {
	frag, ok := op.bodies[mediaType]
	if !ok && mediaType == "multipart/form-data" {
		// payload_json is validated like a JSON body
		frag, ok = op.bodies["application/json"]
	}
	if !ok {
		return nil, nil
	}
	return sp.compile(frag)
}

// compile compiles (once) the schema at a JSON pointer of the document.
func (sp *spec) compile(frag string) (*jsonschema.Schema, error) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if cs, ok := sp.schemas[frag]; ok {
		return cs.sch, cs.err
	}
	sch, err := sp.compiler.Compile(specURL + "#" + frag)
	sp.schemas[frag] = &compiledSchema{sch: sch, err: err}
	return sch, err
}

// fieldError is one problem with a request body, located by a JSON path.
type fieldError struct {
	Path    []string // e.g. ["embeds","0","title"]
	Code    string   // Discord-style code, e.g. BASE_TYPE_MAX_LENGTH
	Message string
}

func (e fieldError) String() string {
	p := strings.Join(e.Path, ".")
	if p == "" {
		p = "(body)"
	}
	return p + ": " + e.Message
}

// validateJSON checks a decoded JSON body against a compiled schema and
// converts the failures to fieldErrors.
func validateJSON(sch *jsonschema.Schema, body []byte) []fieldError {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return []fieldError{{Code: "INVALID_JSON", Message: "The request body contains invalid JSON: " + err.Error()}}
	}
	err = sch.Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []fieldError{{Code: "SCHEMA", Message: err.Error()}}
	}
	var out []fieldError
	collectLeaves(ve, &out)
	if len(out) == 0 {
		out = append(out, fieldError{Code: "SCHEMA", Message: ve.Error()})
	}
	return out
}

var printer = message.NewPrinter(language.English)

// collectLeaves flattens a validation error tree. For oneOf/anyOf unions it
// drops the alternatives whose discriminator ("type" property or JSON type)
// does not match, so a bad button reports the button problem rather than
// one complaint per component kind.
func collectLeaves(ve *jsonschema.ValidationError, out *[]fieldError) {
	if len(ve.Causes) == 0 {
		fe := fieldError{
			Path:    append([]string(nil), ve.InstanceLocation...),
			Code:    "SCHEMA",
			Message: ve.ErrorKind.LocalizedString(printer),
		}
		for _, o := range *out {
			if o.String() == fe.String() {
				return
			}
		}
		*out = append(*out, fe)
		return
	}
	causes := ve.Causes
	switch ve.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
		var kept []*jsonschema.ValidationError
		for _, c := range causes {
			if !discriminatorMismatch(c, ve.InstanceLocation) {
				kept = append(kept, c)
			}
		}
		if len(kept) > 0 {
			causes = kept
		}
	}
	for _, c := range causes {
		collectLeaves(c, out)
	}
}

func discriminatorMismatch(ve *jsonschema.ValidationError, loc []string) bool {
	if len(ve.Causes) == 0 {
		switch ve.ErrorKind.(type) {
		case *kind.Type:
			return slices.Equal(ve.InstanceLocation, loc)
		case *kind.Enum, *kind.Const:
			return len(ve.InstanceLocation) == len(loc)+1 &&
				slices.Equal(ve.InstanceLocation[:len(loc)], loc) &&
				ve.InstanceLocation[len(loc)] == "type"
		}
		return false
	}
	for _, c := range ve.Causes {
		if discriminatorMismatch(c, loc) {
			return true
		}
	}
	return false
}
