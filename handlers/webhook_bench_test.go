package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkWebhookToCommittedRows measures Alertmanager deliveries stored
// durably (SQLite, WAL, synchronous=FULL, one transaction each) through the
// real HTTP handler. alerts/s is the number to watch.
func BenchmarkWebhookToCommittedRows(b *testing.B) {
	for _, perGroup := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("alerts_per_group=%d", perGroup), func(b *testing.B) {
			e := newEnv(b)
			start := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
			bodies := make([][]byte, b.N)
			for i := range bodies {
				alerts := make([]map[string]any, perGroup)
				for j := range alerts {
					alerts[j] = map[string]any{"status": "firing", "fingerprint": fmt.Sprintf("%08x%08x", i, j), "startsAt": start,
						"endsAt": "0001-01-01T00:00:00Z", "labels": map[string]string{"alertname": "Bench", "instance": fmt.Sprint(j), "severity": "warning"},
						"annotations": map[string]string{"summary": "benchmark alert"}}
				}
				bodies[i], _ = json.Marshal(map[string]any{"version": "4", "groupKey": fmt.Sprintf("bench-%d", i), "status": "firing",
					"receiver": "klaxon", "alerts": alerts, "groupLabels": map[string]string{"alertname": "Bench"},
					"commonLabels": map[string]string{"alertname": "Bench"}})
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest(http.MethodPost, "/webhook/alertmanager", bytes.NewReader(bodies[i]))
				r.Header.Set("Authorization", "Bearer s3cret")
				w := httptest.NewRecorder()
				e.h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(b.N*perGroup)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

// BenchmarkWebhookConcurrent is the storm case: Alertmanager delivers many
// single-alert groups at once; group commit shares fsyncs between them.
func BenchmarkWebhookConcurrent(b *testing.B) {
	e := newEnv(b)
	start := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := seq.Add(1)
			body, _ := json.Marshal(map[string]any{"version": "4", "groupKey": fmt.Sprintf("c-%d", i), "status": "firing", "receiver": "klaxon",
				"alerts": []map[string]any{{"status": "firing", "fingerprint": fmt.Sprintf("%016x", i), "startsAt": start,
					"labels": map[string]string{"alertname": "Bench", "severity": "info"}}}})
			r := httptest.NewRequest(http.MethodPost, "/webhook/alertmanager", bytes.NewReader(body))
			r.Header.Set("Authorization", "Bearer s3cret")
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Errorf("status %d: %s", w.Code, w.Body)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "alerts/s")
}

// bigGroup is one Alertmanager delivery of a group of n alerts; the alerts
// whose index is below resolved are resolved.
func bigGroup(key string, n, resolved int, start time.Time) []byte {
	alerts := make([]map[string]any, n)
	for j := range alerts {
		a := map[string]any{"status": "firing", "fingerprint": fmt.Sprintf("%016x", uint64(j)*0x9e3779b97f4a7c15), "startsAt": start,
			"endsAt": "0001-01-01T00:00:00Z", "labels": map[string]string{"alertname": "Big", "instance": fmt.Sprint(j), "severity": "warning"},
			"annotations": map[string]string{"summary": "one of many"}}
		if j < resolved {
			a["status"], a["endsAt"] = "resolved", start.Add(time.Minute)
		}
		alerts[j] = a
	}
	body, _ := json.Marshal(map[string]any{"version": "4", "groupKey": key, "status": "firing",
		"receiver": "klaxon", "alerts": alerts, "groupLabels": map[string]string{"alertname": "Big"},
		"commonLabels": map[string]string{"alertname": "Big"}})
	return body
}

// BenchmarkIngest20000 stores one delivery of a group of 20,000 alerts
// through the real handler and SQLite: "new" is the group's first delivery,
// "update" a later one in which 100 more alerts resolved. While it runs the
// store's only writer is busy, so its time is how long every other webhook
// and acknowledgement waits.
func BenchmarkIngest20000(b *testing.B) {
	const n = 20000
	start := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		update bool
	}{{"new", false}, {"update", true}} {
		b.Run(tc.name, func(b *testing.B) {
			e := newEnv(b)
			e.h.MaxBytes = 64 << 20
			bodies := make([][]byte, b.N)
			for i := range bodies {
				key := fmt.Sprintf("big-%d", i)
				if tc.update {
					key = "big"
					if i == 0 {
						if w := e.post(bigGroup(key, n, 0, start), "Bearer s3cret"); w.Code != http.StatusOK {
							b.Fatalf("first delivery: %d %s", w.Code, w.Body)
						}
					}
				}
				bodies[i] = bigGroup(key, n, 100*(i+1), start)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if w := e.post(bodies[i], "Bearer s3cret"); w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"accepted"`)) {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/delivery")
		})
	}
}
