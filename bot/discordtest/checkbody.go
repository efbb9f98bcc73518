package discordtest

import (
	"errors"
	"fmt"
	"strings"
)

// CheckBody validates a JSON request body as the fake Discord does when it
// receives one, without a server: against the official OpenAPI description
// of method and path (a concrete path such as "/channels/1/messages", without
// the /api/vN prefix) and the limits the spec omits. It returns nil, or an
// error listing every problem. Fuzz tests use it as their oracle.
func CheckBody(method, path string, body []byte) error {
	sp, err := loadSpec()
	if err != nil {
		return fmt.Errorf("load the OpenAPI description: %w", err)
	}
	rt, _ := sp.match(path)
	if rt == nil {
		return fmt.Errorf("%s %s: no such route in the OpenAPI description", method, path)
	}
	op := rt.ops[method]
	if op == nil {
		return fmt.Errorf("%s %s: no such operation in the OpenAPI description", method, rt.Template)
	}
	var fes []fieldError
	sch, err := sp.schemaFor(op, "application/json")
	if err != nil {
		return fmt.Errorf("compile the schema of %s %s: %w", method, rt.Template, err)
	}
	if sch != nil {
		fes = validateJSON(sch, body)
	}
	for _, fe := range checkLimits(&call{method: method, route: rt.Template, payload: body}) {
		if !containsFE(fes, fe) {
			fes = append(fes, fe)
		}
	}
	if len(fes) == 0 {
		return nil
	}
	parts := make([]string, len(fes))
	for i, fe := range fes {
		parts[i] = fe.String()
	}
	return errors.New(method + " " + rt.Template + ": " + strings.Join(parts, "; "))
}
