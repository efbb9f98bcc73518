package discordtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// checkQuery validates the request's query string against the operation's
// query parameters in the OpenAPI description, as Discord does (a bad
// value is a 400 with code 50035 naming the parameter). Parameters the
// description does not list are ignored, as Discord ignores them; array
// and union parameters are not checked.
func (s *Server) checkQuery(c *call, op *specOp) *apiError {
	var fes []fieldError
	for _, p := range op.query {
		vals, ok := c.query[p.Name]
		if !ok || len(vals) == 0 {
			if p.Required {
				fes = append(fes, fieldError{Path: []string{p.Name}, Code: "BASE_TYPE_REQUIRED", Message: "This field is required"})
			}
			continue
		}
		if p.Type == "" {
			continue
		}
		v, fe := queryValue(p, vals[0])
		if fe != nil {
			fes = append(fes, *fe)
			continue
		}
		sch, err := s.spec.compile(p.ptr)
		if err != nil {
			s.logf("compile schema of query parameter %s of %s %s: %v", p.Name, c.method, c.route, err)
			continue
		}
		for _, fe := range validateJSON(sch, v) {
			fe.Path = append([]string{p.Name}, fe.Path...)
			fes = append(fes, fe)
		}
	}
	if len(fes) == 0 {
		return nil
	}
	var parts []string
	for _, fe := range fes {
		parts = append(parts, fe.String())
	}
	s.violate(&Violation{Kind: "query", Method: c.method, Path: c.path, Route: c.route, Detail: strings.Join(parts, "; ")})
	return formError(fes)
}

// queryValue reads a query string value as the parameter's JSON type and
// returns it as JSON.
func queryValue(p specParam, raw string) ([]byte, *fieldError) {
	switch p.Type {
	case "integer":
		if _, err := strconv.ParseInt(raw, 10, 64); err != nil {
			return nil, &fieldError{Path: []string{p.Name}, Code: "NUMBER_TYPE_COERCE", Message: fmt.Sprintf("Value %q is not int.", raw)}
		}
		return []byte(raw), nil
	case "number":
		if _, err := strconv.ParseFloat(raw, 64); err != nil {
			return nil, &fieldError{Path: []string{p.Name}, Code: "NUMBER_TYPE_COERCE", Message: fmt.Sprintf("Value %q is not a number.", raw)}
		}
		return []byte(raw), nil
	case "boolean":
		switch strings.ToLower(raw) {
		case "true", "1":
			return []byte("true"), nil
		case "false", "0":
			return []byte("false"), nil
		}
		return nil, &fieldError{Path: []string{p.Name}, Code: "BOOLEAN_TYPE_COERCE", Message: fmt.Sprintf("Value %q is not a boolean.", raw)}
	}
	b, _ := json.Marshal(raw)
	return b, nil
}
