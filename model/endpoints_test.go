package model

import (
	"fmt"
	"strings"
	"testing"
)

func TestDefaultBaseURL(t *testing.T) {
	tests := []struct {
		api, region string
		want        string
		wantErr     string
	}{
		{"openai", "", "https://dashscope.aliyuncs.com/compatible-mode/v1", ""},
		{"openai", "cn", "https://dashscope.aliyuncs.com/compatible-mode/v1", ""},
		{"openai", "intl", "https://dashscope-intl.aliyuncs.com/compatible-mode/v1", ""},
		{"openai", "us", "https://dashscope-us.aliyuncs.com/compatible-mode/v1", ""},
		{"openai", "hk", "https://cn-hongkong.dashscope.aliyuncs.com/compatible-mode/v1", ""},
		{"dashscope", "", "https://dashscope.aliyuncs.com/api/v1", ""},
		{"dashscope", "INTL", "https://dashscope-intl.aliyuncs.com/api/v1", ""},
		{"dashscope", "us", "https://dashscope-us.aliyuncs.com/api/v1", ""},
		{"dashscope", "hk", "https://cn-hongkong.dashscope.aliyuncs.com/api/v1", ""},
		{"openai", "eu", "", "unknown region"},
		{"anthropic", "cn", "", "unknown api"},
	}
	for _, tc := range tests {
		t.Run(tc.api+"/"+tc.region, func(t *testing.T) {
			got, err := DefaultBaseURL(tc.api, tc.region)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("DefaultBaseURL = %q, %v; want %q", got, err, tc.want)
			}
			if !IsDashScopeURL(got) {
				t.Errorf("IsDashScopeURL(%q) = false", got)
			}
		})
	}
}

func TestIsDashScopeURL(t *testing.T) {
	tests := []struct {
		url  string
		want bool
	}{
		{"https://dashscope.aliyuncs.com/compatible-mode/v1", true},
		{"https://ws-123.ap-southeast-1.maas.aliyuncs.com/api/v1", true},
		{"https://DashScope-Intl.Aliyuncs.com:443/api/v1", true},
		{"dashscope.aliyuncs.com/api/v1", true},
		{"https://api.openai.com/v1", false},
		{"http://localhost:8000/v1", false},
		{"https://aliyuncs.com.evil.example/v1", false},
		{"https://notaliyuncs.com/v1", false},
		{"", false},
		{"://", false},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			if got := IsDashScopeURL(tc.url); got != tc.want {
				t.Errorf("IsDashScopeURL(%q) = %v, want %v", tc.url, got, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		cfg     Config
		want    string // client type
		wantErr string
	}{
		{Config{}, "*model.OpenAIClient", ""},
		{Config{API: "OpenAI", BaseURL: "http://localhost:8000/v1"}, "*model.OpenAIClient", ""},
		{Config{API: "dashscope", APIKey: "k"}, "*model.DashScopeClient", ""},
		{Config{API: "dashscope"}, "", "DASHSCOPE_API_KEY"},
		{Config{API: "gemini"}, "", "unknown api"},
	}
	for _, tc := range tests {
		t.Run(tc.cfg.API, func(t *testing.T) {
			c, err := New(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				if c != nil {
					t.Errorf("failed New returned a non-nil Client %#v", c)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := fmt.Sprintf("%T", c); got != tc.want {
				t.Errorf("New returned %s, want %s", got, tc.want)
			}
		})
	}
}
