package phone

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/url"
	"sort"
	"strings"
)

// SignatureHeader is the header Twilio signs its webhook requests with.
const SignatureHeader = "X-Twilio-Signature"

// Sign returns Twilio's X-Twilio-Signature for a request to fullURL (scheme,
// host, path and query exactly as requested) with POST parameters form:
// base64(HMAC-SHA1(authToken, fullURL + name1 + value1 + name2 + value2 …)),
// parameters sorted by name (and values of a repeated name sorted).
func Sign(authToken, fullURL string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range names {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidateSignature reports whether signature is Twilio's signature of a
// request to fullURL with POST parameters form. Like Twilio's own helpers it
// also accepts the URL with the scheme's default port added or removed, as
// proxies differ in passing it on. The comparison is constant-time.
func ValidateSignature(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	ok := false
	for _, u := range urlVariants(fullURL) {
		want := Sign(authToken, u, form)
		if subtle.ConstantTimeCompare([]byte(want), []byte(signature)) == 1 {
			ok = true
		}
	}
	return ok
}

// urlVariants returns fullURL and fullURL with its default port toggled.
func urlVariants(fullURL string) []string {
	out := []string{fullURL}
	u, err := url.Parse(fullURL)
	if err != nil || u.Host == "" {
		return out
	}
	def := map[string]string{"https": "443", "http": "80"}[strings.ToLower(u.Scheme)]
	if def == "" {
		return out
	}
	v := *u
	if port := u.Port(); port == "" {
		v.Host = net.JoinHostPort(u.Hostname(), def)
	} else if port == def {
		v.Host = u.Hostname()
		if strings.Contains(v.Host, ":") {
			v.Host = "[" + v.Host + "]"
		}
	} else {
		return out
	}
	return append(out, v.String())
}
