package model

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"unicode/utf8"
)

// keyVersion changes when the canonical form changes, so that old stored
// results are not matched with a different meaning.
const keyVersion = 1

// RequestKey is the identity of a request for the run store and for
// de-duplication: a SHA-256 over the endpoint (protocol and service, so a
// simulated or local-server answer never stands in for the real service's),
// the model, the messages and every parameter that can change the answer.
// Transport choices (streaming, timeouts) are not part of it.
func RequestKey(endpoint string, req Request) string {
	canon := struct {
		V        int     `json:"v"`
		Endpoint string  `json:"endpoint"`
		Request  Request `json:"request"`
	}{keyVersion, endpoint, req}
	// Marshal of fixed structs is deterministic: fields in declaration
	// order, no maps.
	b, err := json.Marshal(canon)
	if err != nil {
		// Request holds only strings, numbers and bools; this cannot
		// happen, and a key must never be silently shared.
		panic("model: marshal request key: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// EstimatePromptTokens is a deliberately generous estimate of the input
// tokens a request is billed for, used to pace --tpm and to hold back
// budget before a request is sent. It errs high (every CJK character one
// token, other text one token per 3 bytes, ChatML framing per message) so
// that a budget is not crossed; the usage the service reports is what is
// counted afterwards.
func EstimatePromptTokens(req Request) int64 {
	n := int64(3) // <|im_start|>assistant\n
	hasSystem := false
	for _, m := range req.Messages {
		if m.Role == "system" {
			hasSystem = true
		}
		n += 4 + estimateText(m.Role) + estimateText(m.Content)
	}
	if !hasSystem {
		n += 4 + 6 // the service adds "You are a helpful assistant."
	}
	return n
}

func estimateText(s string) int64 {
	var cjk, other int64
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			other++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x2E80 { // CJK, kana, hangul, fullwidth forms and beyond
			cjk++
		} else {
			other += int64(size)
		}
		i += size
	}
	return cjk + (other+2)/3
}
