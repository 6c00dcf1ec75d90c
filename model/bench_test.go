package model

import (
	"context"
	"testing"
)

// BenchmarkDashScopeStream reads the largest recorded native stream
// (skill-ppt, 49 KB, 18 frames) through the client and a local server.
func BenchmarkDashScopeStream(b *testing.B) {
	rec := loadRecording(b, "recorded", "conversation-generation-message-skill-ppt-sse")
	srv := newReplayServer(b, rec)
	c, err := NewDashScope(DashScopeConfig{BaseURL: srv.URL, APIKey: testKey, Stream: true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(rec.body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Complete(context.Background(), userRequest("ppt")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkClassify(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Classify(400, "invalid_parameter_error", "<400> InternalError.Algo.DataInspectionFailed: Output data may contain inappropriate content.")
	}
}
