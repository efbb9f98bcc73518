package bot

import "log/slog"

// OrDiscard is l, or a logger that writes nothing when l is nil: services
// and jobs take an optional *slog.Logger.
func OrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Wake calls trigger unless it is nil: services take an optional function
// that asks the engine for a cycle.
func Wake(trigger func()) {
	if trigger != nil {
		trigger()
	}
}
