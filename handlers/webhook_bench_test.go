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
