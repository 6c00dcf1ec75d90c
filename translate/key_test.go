package translate

import "testing"

func TestKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"商品", " 商品\n", true},
		{"cafe\u0301", "café", true},
		{"\u3000商品", "商品", true},
		{"a  b", "a b", false},
		{"Order", "order", false},
	}
	for _, tt := range tests {
		if got := Key(tt.a) == Key(tt.b); got != tt.same {
			t.Errorf("Key(%q) == Key(%q) is %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func TestKeepSpace(t *testing.T) {
	tests := []struct{ orig, tr, want string }{
		{" 商品\n", "product", " product\n"},
		{"商品", " product ", "product"},
		{"\u3000商品", "product", "\u3000product"},
		{"   ", "x", "   "},
		{"商品 商品", "product product", "product product"},
	}
	for _, tt := range tests {
		if got := KeepSpace(tt.orig, tt.tr); got != tt.want {
			t.Errorf("KeepSpace(%q, %q) = %q, want %q", tt.orig, tt.tr, got, tt.want)
		}
	}
}
