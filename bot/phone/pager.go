package phone

import (
	"context"
	"strconv"
	"strings"

	"github.com/marola-rp/klaxon/bot"
)

// GatherPath is the route of the keypress callback (handlers.PhoneCallback).
const GatherPath = "/phone/gather"

// GatherURL is the keypress callback URL of a page: publicURL + GatherPath
// + "?page=<id>". Twilio signs exactly this URL.
func GatherURL(publicURL string, pageID int64) string {
	return strings.TrimRight(publicURL, "/") + GatherPath + "?page=" + strconv.FormatInt(pageID, 10)
}

// Pager adapts a Caller to the core's bot.Phone: it builds the callback URL
// from the page id.
type Pager struct {
	Caller    Caller
	PublicURL string // base URL Twilio reaches Klaxon at, e.g. https://klaxon.example.org
	StatusURL string // optional absolute status callback URL
}

var _ bot.Phone = (*Pager)(nil)

// Call places the page call.
func (p *Pager) Call(ctx context.Context, c bot.PhoneCall) (string, error) {
	return p.Caller.Call(ctx, Call{To: c.To, Message: c.Message, CallbackURL: GatherURL(p.PublicURL, c.PageID), StatusURL: p.StatusURL})
}
