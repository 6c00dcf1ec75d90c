package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"bulkgen/model"
)

// chatBody is the OpenAI-compatible request body for req: the fields
// bulkgen's client sends for it (model, messages and the parameters the
// job sets).
func chatBody(req model.Request) ([]byte, error) {
	body := struct {
		Model       string          `json:"model"`
		Messages    []model.Message `json:"messages"`
		Temperature *float64        `json:"temperature,omitempty"`
		TopP        *float64        `json:"top_p,omitempty"`
		MaxTokens   *int64          `json:"max_tokens,omitempty"`
		Seed        *int64          `json:"seed,omitempty"`
		Stop        []string        `json:"stop,omitempty"`
	}{req.Model, req.Messages, req.Temperature, req.TopP, req.MaxTokens, req.Seed, req.Stop}
	return json.Marshal(body)
}

// chatReply is what any client must take out of an answer to use it.
type chatReply struct {
	Choices []struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
		TotalTokens      int64 `json:"total_tokens"`
	} `json:"usage"`
}

// idealResult is one run of the ideal client.
type idealResult struct {
	wall        time.Duration
	requests    int
	totalTokens int64
}

// idealClient is the floor a bulk client cannot beat: workers goroutines
// posting pre-rendered bodies over a keep-alive pool and decoding the
// answers, with no reading, rendering, store, retries or writing. Any
// answer other than 200 is an error (it runs against a simulator without
// quotas or faults).
func idealClient(ctx context.Context, baseURL, key string, bodies [][]byte, workers int) (idealResult, error) {
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	url := strings.TrimRight(baseURL, "/") + "/chat/completions"
	var (
		next   atomic.Int64
		tokens atomic.Int64
		wg     sync.WaitGroup
		once   sync.Once
		first  error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) {
		once.Do(func() { first = err; cancel() })
	}
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) || ctx.Err() != nil {
					return
				}
				n, err := post(ctx, hc, url, key, bodies[i], &buf)
				if err != nil {
					fail(fmt.Errorf("ideal client, request %d: %w", i+1, err))
					return
				}
				tokens.Add(n)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if first != nil {
		return idealResult{}, first
	}
	return idealResult{wall: wall, requests: len(bodies), totalTokens: tokens.Load()}, nil
}

// post sends one body and returns the answer's total tokens.
func post(ctx context.Context, hc *http.Client, url, key string, body []byte, buf *bytes.Buffer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := io.Copy(buf, resp.Body); err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d: %.200s", resp.StatusCode, buf.Bytes())
	}
	var r chatReply
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		return 0, fmt.Errorf("decode answer: %w", err)
	}
	if len(r.Choices) == 0 {
		return 0, fmt.Errorf("answer without choices: %.200s", buf.Bytes())
	}
	return r.Usage.TotalTokens, nil
}
