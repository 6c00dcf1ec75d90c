package modeltest

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkCompletion measures the simulator's throughput at zero latency
// over loopback with keep-alive connections, the way a bulk run uses it.
func BenchmarkCompletion(b *testing.B) {
	for _, bc := range []struct {
		name, path, body string
		headers          []string
	}{
		{"compatible", CompatiblePath, compatReq, nil},
		{"native", NativePath, nativeReq, nil},
		{"compatible-stream", CompatiblePath, strings.Replace(compatReq, `"messages"`, `"stream":true,"messages"`, 1), nil},
		{"native-stream", NativePath, nativeReq, sse},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := NewServer(Options{})
			defer s.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			url := s.URL() + bc.path
			b.SetParallelism(4)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(bc.body))
					if err != nil {
						b.Error(err)
						return
					}
					req.Header.Set("Authorization", "Bearer "+testKey)
					req.Header.Set("Content-Type", "application/json")
					for i := 0; i+1 < len(bc.headers); i += 2 {
						req.Header.Set(bc.headers[i], bc.headers[i+1])
					}
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err != nil || resp.StatusCode != http.StatusOK {
						b.Errorf("status %d, %v", resp.StatusCode, err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
