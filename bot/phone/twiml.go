package phone

import (
	"encoding/xml"
	"strconv"
	"strings"
	"unicode"
)

// The keys the callee is asked to press.
const (
	DigitAck      = "1"
	DigitEscalate = "2"
)

// MaxSpokenRunes bounds the alert text read out in a call.
const MaxSpokenRunes = 300

// Prompt is what a call asks after reading the alert.
const Prompt = "Press 1 to acknowledge. Press 2 to escalate."

// GatherTimeout is how many seconds Twilio waits for a keypress.
const GatherTimeout = 10

// Voice is the text-to-speech voice of every <Say>.
const Voice = "alice"

// TwiML returns the inline TwiML of an alert call: the alert text (at most
// MaxSpokenRunes runes) and Prompt, read twice inside a one-digit <Gather>
// whose action is gatherURL, then a goodbye when nothing was pressed.
func TwiML(message, gatherURL string) string {
	text := Speakable(message)
	var b strings.Builder
	b.WriteString(`<Response>`)
	writeGather(&b, gatherURL, text+" "+Prompt, "Again: "+text+" "+Prompt)
	b.WriteString(`<Say voice="` + Voice + `">No input received. Goodbye.</Say></Response>`)
	return b.String()
}

// SayTwiML returns a TwiML document that says text and ends the call.
func SayTwiML(text string) string {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString(`<Response>`)
	writeSay(&b, Speakable(text))
	b.WriteString(`</Response>`)
	return b.String()
}

// RepromptTwiML returns a TwiML document that says text, asks Prompt again
// in a fresh <Gather> posting to gatherURL, and says goodbye on no input.
func RepromptTwiML(text, gatherURL string) string {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString(`<Response>`)
	writeGather(&b, gatherURL, strings.TrimSpace(Speakable(text)+" "+Prompt))
	b.WriteString(`<Say voice="` + Voice + `">No input received. Goodbye.</Say></Response>`)
	return b.String()
}

func writeGather(b *strings.Builder, action string, says ...string) {
	b.WriteString(`<Gather numDigits="1" action="`)
	escape(b, action)
	b.WriteString(`" method="POST" timeout="` + strconv.Itoa(GatherTimeout) + `">`)
	for i, s := range says {
		if i > 0 {
			b.WriteString(`<Pause length="1"/>`)
		}
		writeSay(b, s)
	}
	b.WriteString(`</Gather>`)
}

func writeSay(b *strings.Builder, text string) {
	b.WriteString(`<Say voice="` + Voice + `">`)
	escape(b, text)
	b.WriteString(`</Say>`)
}

func escape(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a strings.Builder never fails
}

// Speakable returns s as one line of text to speak: whitespace runs
// collapsed, control characters dropped, cut to MaxSpokenRunes runes at a
// word boundary when possible.
func Speakable(s string) string {
	var b strings.Builder
	space := false
	n := 0
	truncated := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			continue
		}
		if space {
			if n+1 >= MaxSpokenRunes {
				truncated = true
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		if n >= MaxSpokenRunes {
			truncated = true
			break
		}
		b.WriteRune(r)
		n++
	}
	out := b.String()
	if !truncated {
		return out
	}
	if i := strings.LastIndexByte(out, ' '); i > len(out)/2 {
		out = out[:i]
	}
	return strings.TrimRight(out, " ,;:-") + "…"
}
