package s3api

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"skyhub/internal/aws/sigv4"
	"skyhub/internal/s3"
)

func (h *Handler) sNow() time.Time { return time.Now() }

// postObject is the browser form upload: multipart/form-data fields, the
// file last. The file part streams straight into the object.
func (h *Handler) postObject(c *req) error {
	_, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return s3err(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
	}
	mr := multipart.NewReader(c.r.Body, params["boundary"])
	fields := map[string]string{}
	var filePart *multipart.Part
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s3err(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		}
		name := strings.ToLower(p.FormName())
		if name == "file" {
			filePart = p
			break
		}
		v, err := io.ReadAll(io.LimitReader(p, 64<<10))
		if err != nil {
			return s3err(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
		}
		fields[name] = string(v)
	}
	if filePart == nil {
		return s3err(400, "InvalidArgument", "POST requires exactly one file upload per request.").With("ArgumentName", "file")
	}
	key := fields["key"]
	if key == "" {
		return s3err(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.").With("ArgumentName", "key")
	}
	key = strings.ReplaceAll(key, "${filename}", filePart.FileName())
	if h.cfg.Strict {
		if err := h.checkPostPolicy(fields, c.bucket, key); err != nil {
			return err
		}
	}
	in := &s3.PutInput{Body: filePart, Size: -1, ContentType: fields["content-type"]}
	if in.ContentType == "" {
		in.ContentType = "binary/octet-stream"
	}
	hdr := http.Header{}
	for k, v := range fields {
		if strings.HasPrefix(k, "x-amz-meta-") {
			hdr.Set(k, v)
		}
	}
	for _, k := range storedHeaders {
		if v := fields[strings.ToLower(k)]; v != "" {
			hdr.Set(k, v)
		}
	}
	in.Meta, in.Headers = metaFrom(hdr)
	if t := fields["tagging"]; t != "" {
		var tg tagging
		if xml.Unmarshal([]byte(t), &tg) == nil {
			in.Tags, _ = tagsFromXML(&tg, 10)
		}
	}
	o, err := h.s.PutObject(c.r.Context(), c.bucket, key, in)
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", o.ETag)
	setVersionHeader(c.w, o)
	loc := "http://" + c.r.Host + "/" + c.bucket + "/" + url.PathEscape(key)
	c.w.Header().Set("Location", loc)
	if redir := fields["success_action_redirect"]; redir != "" {
		if u, err := url.Parse(redir); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			extra := "bucket=" + url.QueryEscape(c.bucket) + "&key=" + url.QueryEscape(key) + "&etag=" + url.QueryEscape(o.ETag)
			if u.RawQuery != "" {
				u.RawQuery += "&" + extra
			} else {
				u.RawQuery = extra
			}
			c.w.Header().Set("Location", u.String())
			c.w.WriteHeader(http.StatusSeeOther)
			return nil
		}
	}
	switch fields["success_action_status"] {
	case "200":
		c.w.WriteHeader(200)
	case "201":
		return writeXML(c, 201, struct {
			XMLName  xml.Name `xml:"PostResponse"`
			Location string   `xml:"Location"`
			Bucket   string   `xml:"Bucket"`
			Key      string   `xml:"Key"`
			ETag     string   `xml:"ETag"`
		}{Location: loc, Bucket: c.bucket, Key: key, ETag: o.ETag})
	default:
		c.w.WriteHeader(204)
	}
	return nil
}

// checkPostPolicy verifies a form's policy signature (V4 or V2), its
// expiration, and its bucket/key conditions.
func (h *Handler) checkPostPolicy(f map[string]string, bucket, key string) error {
	policy := f["policy"]
	denied := func(msg string) error { return s3err(403, "AccessDenied", msg) }
	if policy == "" {
		return denied("Access Denied")
	}
	if cred := f["x-amz-credential"]; cred != "" {
		parts := strings.Split(cred, "/")
		if len(parts) != 5 {
			return s3err(400, "InvalidArgument", "Invalid credential")
		}
		secret, ok := h.cfg.Credentials[parts[0]]
		if !ok {
			return s3err(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		}
		key := sigv4.SigningKey(secret, parts[1], parts[2], parts[3])
		m := hmac.New(sha256New, key)
		m.Write([]byte(policy))
		if !hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(f["x-amz-signature"])) {
			return s3err(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		}
	} else {
		secret, ok := h.cfg.Credentials[f["awsaccesskeyid"]]
		if !ok {
			return s3err(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")
		}
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(policy))
		if !hmac.Equal([]byte(base64.StdEncoding.EncodeToString(m.Sum(nil))), []byte(f["signature"])) {
			return s3err(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		}
	}
	raw, err := base64.StdEncoding.DecodeString(policy)
	if err != nil {
		return s3err(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
	}
	var doc struct {
		Expiration string `json:"expiration"`
		Conditions []any  `json:"conditions"`
	}
	if json.Unmarshal(raw, &doc) != nil {
		return s3err(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
	}
	exp, err := time.Parse(time.RFC3339, doc.Expiration)
	if err != nil {
		return s3err(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: '"+doc.Expiration+"'")
	}
	if time.Now().After(exp) {
		return denied("Invalid according to Policy: Policy expired.")
	}
	vals := map[string]string{"bucket": bucket, "key": key}
	for k, v := range f {
		vals[k] = v
	}
	for _, c := range doc.Conditions {
		switch cv := c.(type) {
		case map[string]any:
			for k, v := range cv {
				if s, ok := v.(string); ok && vals[strings.ToLower(k)] != s {
					return denied("Invalid according to Policy: Policy Condition failed: [\"eq\", \"$" + k + "\", \"" + s + "\"]")
				}
			}
		case []any:
			if len(cv) != 3 {
				continue
			}
			op, _ := cv[0].(string)
			field, _ := cv[1].(string)
			val, _ := cv[2].(string)
			field = strings.ToLower(strings.TrimPrefix(field, "$"))
			switch strings.ToLower(op) {
			case "eq":
				if vals[field] != val {
					return denied("Invalid according to Policy: Policy Condition failed: [\"eq\", \"$" + field + "\", \"" + val + "\"]")
				}
			case "starts-with":
				if !strings.HasPrefix(vals[field], val) {
					return denied("Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$" + field + "\", \"" + val + "\"]")
				}
			}
		}
	}
	return nil
}

var _ = strconv.Itoa
var sha256New = sha256.New
