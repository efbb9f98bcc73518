package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// finish fills in res from the fake Discord's records, the proxy and /proc.
func (b *bench) finish(res *Result, start, resolveAt time.Time, p0Pushed []time.Time, names []string) {
	// Process figures first, while the processes are alive.
	if rss, cpu, err := procStats(b.klaxon.Pid()); err == nil {
		res.Klaxon.PeakRSSMiB, res.Klaxon.CPUSeconds = finite(rss), finite(cpu)
	} else {
		res.Notes = append(res.Notes, "could not read Klaxon's /proc figures: "+err.Error())
	}
	if rss, cpu, err := procStats(b.am.Pid()); err == nil {
		res.Native.PeakRSSMiB, res.Native.CPUSeconds = finite(rss), finite(cpu)
		res.Native.ProcessNote = "all of Alertmanager, routing included"
	}
	klaxonAlive := b.klaxon.Running()

	kp, np := b.presenceNow(resolveAt)
	parents := b.parents()
	reqs := b.discord.Requests()
	var ksent, nsent []sentMessage
	before := 0
	for _, r := range reqs {
		native := strings.HasPrefix(r.Path, "/webhooks/"+b.hookID+"/")
		o := &res.Klaxon
		if native {
			o = &res.Native
		} else if r.Time.Before(start) {
			before++
		}
		o.Requests++
		switch {
		case r.Status == http.StatusTooManyRequests:
			o.Status429++
		case r.Status >= 400 && r.Status < 500:
			o.Other4xx++
		case r.Status >= 500:
			o.Status5xx++
		}
		if r.Status < 200 || r.Status > 299 {
			continue
		}
		switch r.Method + " " + r.Route {
		case "POST /channels/{channel_id}/messages", "POST /webhooks/{webhook_id}/{webhook_token}":
			o.MessagesCreated++
		case "PATCH /channels/{channel_id}/messages/{message_id}", "PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}":
			o.MessageEdits++
		}
		if r.Method != http.MethodPost && r.Method != http.MethodPatch {
			continue
		}
		text := payloadText(r.Body)
		if text == "" {
			continue
		}
		ch := parents[r.ChannelID]
		if ch == "" {
			ch = r.ChannelID
		}
		if native {
			nsent = append(nsent, sentMessage{At: r.Time, Channel: ch, Text: text})
		} else {
			ksent = append(ksent, sentMessage{At: r.Time, Channel: ch, Text: text})
		}
	}
	if before > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("Klaxon's count includes %d request(s) made at startup, before the storm", before))
	}
	if err := writeHandovers(filepath.Join(b.o.WorkDir, "handovers.jsonl"), b.proxy.Handovers()); err != nil {
		res.Notes = append(res.Notes, "could not write handovers.jsonl: "+err.Error())
	}
	flushed := firstFiring(b.proxy.Handovers())
	for _, h := range b.proxy.Handovers() {
		if h.Answer < 200 || h.Answer > 299 {
			res.Klaxon.WebhookNon2xx++
		}
	}
	if n := res.Klaxon.WebhookNon2xx; n > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("Klaxon answered %d of Alertmanager's webhook deliveries with a non-2xx status (Alertmanager retries them)", n))
	}

	fill := func(o *Outcome, name string, p Presence, sent []sentMessage, channelOf func(string) (string, bool)) {
		o.Receiver = name
		o.RequestsPer1000 = round1(float64(o.Requests) * 1000 / float64(len(names)))
		shown, resolvedAt := firstSeen(sent, channelOf)
		var push, flush []time.Duration
		for j, g := range b.groups[len(b.groups)-len(p0Pushed):] {
			seen, ok := shown[g.Name]
			if !ok {
				push, flush = append(push, -1), append(flush, -1)
				continue
			}
			push = append(push, max(seen.Sub(p0Pushed[j]), 0))
			if f, ok := flushed[g.Name]; ok {
				flush = append(flush, max(seen.Sub(f), 0))
			} else {
				flush = append(flush, -1)
			}
		}
		o.P0PushToVisible, o.P0FlushToVisible = summarize(push), summarize(flush)
		o.GroupsPushed = len(names)
		o.GroupsRepresented = len(p.Represented)
		o.GroupsLost = len(names) - len(p.Represented)
		for _, n := range names {
			if !p.Represented[n] && len(o.LostExamples) < 10 {
				o.LostExamples = append(o.LostExamples, n)
			}
		}
		if last, missing := lastOf(shown, names); missing == 0 {
			o.AllRepresentedAfter = finite(last.Sub(start).Seconds())
		}
		o.ResolvedEdited, o.ResolvedNewMessage = len(p.ResolvedEdited), len(p.ResolvedNew)
		o.ResolvedNotShown = len(names) - o.ResolvedEdited - o.ResolvedNewMessage
		if last, missing := lastOf(resolvedAt, names); missing == 0 && o.ResolvedNotShown == 0 {
			o.AllResolvedAfter = finite(last.Sub(resolveAt).Seconds())
		}
	}
	fill(&res.Klaxon, "klaxon", kp, ksent, b.klaxonChannel)
	fill(&res.Native, "alertmanager discord_configs", np, nsent, b.nativeChannel)
	b.violMu.Lock()
	res.Klaxon.ViolationsExamples = nonRateLimit(b.violEx["klaxon"])
	res.Native.ViolationsExamples = nonRateLimit(b.violEx["native"])
	b.violMu.Unlock()

	if probs := logProblems(b.klaxon.log); len(probs) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("Klaxon's log (%s): %s", b.klaxon.log, strings.Join(probs, "; ")))
	}
	if !klaxonAlive {
		res.Failures = append(res.Failures, fmt.Sprintf("klaxon exited during the run (%v); see %s", b.klaxon.cmd.ProcessState, b.klaxon.log))
	}
	if res.Klaxon.GroupsLost > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("Klaxon lost %d of %d groups (e.g. %s)", res.Klaxon.GroupsLost, len(names), strings.Join(res.Klaxon.LostExamples, ", ")))
	}
	if res.Klaxon.ResolvedNotShown > 0 {
		res.Failures = append(res.Failures, fmt.Sprintf("Klaxon did not reflect %d of %d resolutions by the end of the run", res.Klaxon.ResolvedNotShown, len(names)))
	}
}

func nonRateLimit(ex []string) []string {
	var out []string
	for _, e := range ex {
		if !strings.Contains(e, "ratelimit violation") {
			out = append(out, e)
		}
	}
	return out
}

// logProblems summarises a JSON log's WARN and ERROR lines by level and
// message, e.g. "WARN alert storm: cards folded into a digest ×2".
func logProblems(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	count := map[string]int{}
	var order []string
	for _, line := range strings.Split(string(b), "\n") {
		var l struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || (l.Level != "WARN" && l.Level != "ERROR") {
			continue
		}
		key := l.Level + " " + l.Msg
		if count[key] == 0 {
			order = append(order, key)
		}
		count[key]++
	}
	var out []string
	for _, k := range order {
		out = append(out, fmt.Sprintf("%s ×%d", k, count[k]))
	}
	return out
}
