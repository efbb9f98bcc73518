package discordtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Limits Discord enforces that the OpenAPI description does not express
// (or expresses more loosely). Lengths count Unicode code points.
const (
	maxContent        = 2000
	maxEmbeds         = 10
	maxEmbedTitle     = 256
	maxEmbedDesc      = 4096
	maxEmbedFields    = 25
	maxFieldName      = 256
	maxFieldValue     = 1024
	maxFooterText     = 2048
	maxAuthorName     = 256
	maxEmbedTotal     = 6000
	maxActionRows     = 5
	maxRowButtons     = 5
	maxCustomID       = 100
	maxThreadName     = 100
	maxAutocompleteCh = 25
)

var validArchiveDurations = map[int]bool{60: true, 1440: true, 4320: true, 10080: true}

// checkLimits applies the extra limits for the routes that carry messages
// or threads.
func checkLimits(c *call) []fieldError {
	var body map[string]any
	if json.Unmarshal(c.payload, &body) != nil {
		return nil // the schema check reports broken JSON
	}
	var fes []fieldError
	switch c.method + " " + c.route {
	case "POST /channels/{channel_id}/messages",
		"PATCH /channels/{channel_id}/messages/{message_id}",
		"POST /webhooks/{webhook_id}/{webhook_token}",
		"PATCH /webhooks/{webhook_id}/{webhook_token}/messages/@original",
		"PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}":
		checkMessage(nil, body, &fes)
	case "POST /interactions/{interaction_id}/{interaction_token}/callback":
		data, _ := body["data"].(map[string]any)
		if data == nil {
			break
		}
		switch num(body["type"]) {
		case 4, 7:
			checkMessage([]string{"data"}, data, &fes)
		case 8:
			if ch, ok := data["choices"].([]any); ok && len(ch) > maxAutocompleteCh {
				fes = append(fes, tooMany([]string{"data", "choices"}, maxAutocompleteCh))
			}
		case 9:
			checkComponents([]string{"data", "components"}, data["components"], &fes)
			checkLen([]string{"data", "custom_id"}, data["custom_id"], 1, maxCustomID, &fes)
		}
	case "POST /channels/{channel_id}/messages/{message_id}/threads":
		checkThread(body, false, &fes)
	case "POST /channels/{channel_id}/threads":
		msg, hasMsg := body["message"].(map[string]any)
		checkThread(body, !hasMsg, &fes)
		if hasMsg {
			checkMessage([]string{"message"}, msg, &fes)
		}
	case "PATCH /channels/{channel_id}":
		if _, ok := body["name"]; ok {
			checkLen([]string{"name"}, body["name"], 1, maxThreadName, &fes)
		}
		checkArchive(body, &fes)
	}
	return fes
}

func checkThread(body map[string]any, needType bool, fes *[]fieldError) {
	checkLen([]string{"name"}, body["name"], 1, maxThreadName, fes)
	checkArchive(body, fes)
	if needType {
		if t, ok := body["type"]; !ok || t == nil {
			*fes = append(*fes, fieldError{Path: []string{"type"}, Code: "BASE_TYPE_REQUIRED", Message: "This field is required"})
		}
	}
}

func checkArchive(body map[string]any, fes *[]fieldError) {
	v, ok := body["auto_archive_duration"]
	if !ok || v == nil {
		return
	}
	if n, isNum := v.(float64); !isNum || !validArchiveDurations[int(n)] || n != float64(int(n)) {
		*fes = append(*fes, fieldError{Path: []string{"auto_archive_duration"}, Code: "BASE_TYPE_CHOICES",
			Message: fmt.Sprintf("Value must be one of {60, 1440, 4320, 10080}, got %v.", v)})
	}
}

func checkMessage(base []string, m map[string]any, fes *[]fieldError) {
	at := func(p ...string) []string { return append(append([]string(nil), base...), p...) }
	checkLen(at("content"), m["content"], 0, maxContent, fes)
	if embeds, ok := m["embeds"].([]any); ok {
		if len(embeds) > maxEmbeds {
			*fes = append(*fes, tooMany(at("embeds"), maxEmbeds))
		}
		total := 0
		for i, e := range embeds {
			em, _ := e.(map[string]any)
			if em == nil {
				continue
			}
			ix := strconv.Itoa(i)
			total += checkLen(at("embeds", ix, "title"), em["title"], 0, maxEmbedTitle, fes)
			total += checkLen(at("embeds", ix, "description"), em["description"], 0, maxEmbedDesc, fes)
			if f, ok := em["footer"].(map[string]any); ok {
				total += checkLen(at("embeds", ix, "footer", "text"), f["text"], 0, maxFooterText, fes)
			}
			if a, ok := em["author"].(map[string]any); ok {
				total += checkLen(at("embeds", ix, "author", "name"), a["name"], 0, maxAuthorName, fes)
			}
			if fields, ok := em["fields"].([]any); ok {
				if len(fields) > maxEmbedFields {
					*fes = append(*fes, tooMany(at("embeds", ix, "fields"), maxEmbedFields))
				}
				for j, f := range fields {
					fm, _ := f.(map[string]any)
					if fm == nil {
						continue
					}
					jx := strconv.Itoa(j)
					total += checkLen(at("embeds", ix, "fields", jx, "name"), fm["name"], 0, maxFieldName, fes)
					total += checkLen(at("embeds", ix, "fields", jx, "value"), fm["value"], 0, maxFieldValue, fes)
				}
			}
		}
		if total > maxEmbedTotal {
			*fes = append(*fes, fieldError{Path: at("embeds"), Code: "MAX_EMBED_SIZE_EXCEEDED",
				Message: fmt.Sprintf("Embed size exceeds maximum size of %d (got %d).", maxEmbedTotal, total)})
		}
	}
	checkComponents(at("components"), m["components"], fes)
}

func checkComponents(path []string, v any, fes *[]fieldError) {
	comps, ok := v.([]any)
	if !ok {
		return
	}
	rows := 0
	for i, c := range comps {
		cm, _ := c.(map[string]any)
		if cm == nil {
			continue
		}
		if num(cm["type"]) == 1 {
			rows++
			if inner, ok := cm["components"].([]any); ok {
				buttons := 0
				for _, b := range inner {
					if bm, _ := b.(map[string]any); bm != nil && num(bm["type"]) == 2 {
						buttons++
					}
				}
				if buttons > maxRowButtons {
					*fes = append(*fes, tooMany(append(append([]string(nil), path...), strconv.Itoa(i), "components"), maxRowButtons))
				}
			}
		}
	}
	if rows > maxActionRows {
		*fes = append(*fes, tooMany(path, maxActionRows))
	}
	var walk func(p []string, v any)
	walk = func(p []string, v any) {
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				walk(append(append([]string(nil), p...), strconv.Itoa(i)), e)
			}
		case map[string]any:
			if id, ok := x["custom_id"]; ok && id != nil {
				checkLen(append(append([]string(nil), p...), "custom_id"), id, 1, maxCustomID, fes)
			}
			for _, k := range []string{"components", "accessory"} {
				if sub, ok := x[k]; ok {
					walk(append(append([]string(nil), p...), k), sub)
				}
			}
		}
	}
	walk(path, comps)
}

// checkLen checks a string's length in runes and returns it (0 for non-strings).
func checkLen(path []string, v any, minLen, maxLen int, fes *[]fieldError) int {
	if v == nil {
		if minLen > 0 {
			*fes = append(*fes, fieldError{Path: path, Code: "BASE_TYPE_REQUIRED", Message: "This field is required"})
		}
		return 0
	}
	s, ok := v.(string)
	if !ok {
		return 0
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n > maxLen:
		*fes = append(*fes, fieldError{Path: path, Code: "BASE_TYPE_MAX_LENGTH", Message: fmt.Sprintf("Must be %d or fewer in length.", maxLen)})
	case n < minLen:
		*fes = append(*fes, fieldError{Path: path, Code: "BASE_TYPE_BAD_LENGTH", Message: fmt.Sprintf("Must be between %d and %d in length.", minLen, maxLen)})
	}
	return n
}

func tooMany(path []string, n int) fieldError {
	return fieldError{Path: path, Code: "BASE_TYPE_MAX_LENGTH", Message: fmt.Sprintf("Must be %d or fewer in length.", n)}
}

func num(v any) float64 {
	f, _ := v.(float64)
	return f
}
