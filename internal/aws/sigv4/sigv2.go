package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// s3SubResources are the query parameters that belong to a SigV2
// canonicalized resource.
var s3SubResources = map[string]bool{
	"acl": true, "cors": true, "delete": true, "lifecycle": true, "location": true, "logging": true,
	"notification": true, "partNumber": true, "policy": true, "requestPayment": true, "tagging": true,
	"torrent": true, "uploadId": true, "uploads": true, "versionId": true, "versioning": true,
	"versions": true, "website": true, "restore": true, "select": true, "select-type": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
	"response-content-language": true, "response-content-type": true, "response-expires": true,
	"attributes": true, "accelerate": true, "replication": true, "encryption": true, "object-lock": true,
	"legal-hold": true, "retention": true, "ownershipControls": true, "publicAccessBlock": true,
}

// StringToSignV2 builds the S3 SigV2 string to sign; date is the Date
// header, or Expires for presigned URLs.
func StringToSignV2(r *http.Request, date, resourcePrefix string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(r.Header.Get("Content-MD5") + "\n")
	b.WriteString(r.Header.Get("Content-Type") + "\n")
	amz := map[string][]string{}
	var names []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") {
			if _, ok := amz[lk]; !ok {
				names = append(names, lk)
			}
			for _, v := range vs {
				amz[lk] = append(amz[lk], strings.TrimSpace(v))
			}
		}
	}
	if _, ok := amz["x-amz-date"]; ok {
		date = ""
	}
	b.WriteString(date + "\n")
	sort.Strings(names)
	for _, n := range names {
		b.WriteString(n + ":" + strings.Join(amz[n], ",") + "\n")
	}
	b.WriteString(resourcePrefix + rawPath(r))
	q := r.URL.Query()
	var subs []string
	for k := range q {
		if s3SubResources[k] {
			subs = append(subs, k)
		}
	}
	sort.Strings(subs)
	for i, k := range subs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if v := q.Get(k); v != "" {
			b.WriteString("=" + v)
		}
	}
	return b.String()
}

func hmacSHA1B64(secret, s string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (a *Auth) verifyV2S3(r *http.Request, secret string, o Options) error {
	date := r.Header.Get("Date")
	if a.Scheme == V2Query {
		date = r.URL.Query().Get("Expires")
	}
	prefixes := []string{""}
	if o.VHostBucket != "" {
		prefixes = []string{"/" + o.VHostBucket, ""}
	}
	for _, p := range prefixes {
		sts := StringToSignV2(r, date, p)
		if hmac.Equal([]byte(hmacSHA1B64(secret, sts)), []byte(a.Signature)) {
			return nil
		}
	}
	return fail(Mismatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
}

// verifyV2Params checks query-protocol SignatureVersion=2 (HmacSHA256 or
// HmacSHA1): Method \n host \n path \n sorted encoded parameters.
func (a *Auth) verifyV2Params(r *http.Request, secret string, o Options) error {
	p := o.Params
	var keys []string
	for k := range p {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var q strings.Builder
	for i, k := range keys {
		if i > 0 {
			q.WriteByte('&')
		}
		q.WriteString(Encode(k, false) + "=" + Encode(p.Get(k), false))
	}
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	sts := r.Method + "\n" + strings.ToLower(r.Host) + "\n" + path + "\n" + q.String()
	var mac []byte
	if p.Get("SignatureMethod") == "HmacSHA1" {
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(sts))
		mac = m.Sum(nil)
	} else {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(sts))
		mac = m.Sum(nil)
	}
	if hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac)), []byte(a.Signature)) {
		return nil
	}
	return fail(Mismatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
}

var _ = url.Values{}
