package bot

// Via is one way a page reaches a person: the `via` of an escalation
// target and, through Reach, the `reach:` of a priority.
type Via string

// The notification channels. Each has one entry in Channels.
const (
	ViaMention Via = "mention" // a mention in the alert channel, as a reply to the card
	ViaDM      Via = "dm"      // a direct message
	ViaPhone   Via = "phone"   // a phone call
	ViaEmail   Via = "email"   // an e-mail (batched into a digest)
)

// Channel describes one notification channel (alertmanager's receiver
// integrations registry is the model): adding a channel is one entry here
// plus its sender, wired in cmd/klaxon; a test there fails when an entry
// that needs a provider has none.
type Channel struct {
	Via  Via
	Name string // how notes name it ("e-mail", "DM")
	// Provider is the configuration section that must be present for pages
	// by Via to go out ("" for Discord channels, which need none).
	Provider string
	// NoProvider and NoProviderFix say why a page cannot go out without
	// the provider, and what fixes it.
	NoProvider, NoProviderFix string
	// Address returns the contact detail Via needs (phone number, e-mail
	// address); nil when it needs none. NoAddress and NoAddressFix say what
	// is missing ({user} stands for the person) and what fixes it.
	Address                 func(Contact) string
	NoAddress, NoAddressFix string
}

// Channels lists every notification channel, in the order of the vias.
var Channels = []Channel{
	{Via: ViaMention, Name: "mention"},
	{Via: ViaDM, Name: "DM"},
	{Via: ViaPhone, Name: "phone", Provider: "phone",
		NoProvider: "no phone provider is configured", NoProviderFix: "add a phone: section",
		Address:   func(c Contact) string { return c.Phone },
		NoAddress: "{user} has no phone number in users:", NoAddressFix: "add their phone: in E.164, e.g. +491510000001"},
	{Via: ViaEmail, Name: "e-mail", Provider: "email",
		NoProvider: "no e-mail provider is configured", NoProviderFix: "add an email: section",
		Address:   func(c Contact) string { return c.Email },
		NoAddress: "{user} has no e-mail address in users:", NoAddressFix: "add their email: address"},
}

// ChannelOf returns via's entry in Channels.
func ChannelOf(via Via) (Channel, bool) {
	for _, c := range Channels {
		if c.Via == via {
			return c, true
		}
	}
	return Channel{}, false
}

// Valid reports whether v is a known channel.
func (v Via) Valid() bool { _, ok := ChannelOf(v); return ok }
