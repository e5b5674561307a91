// Package sts answers the AWS Security Token Service calls that local
// clients make before talking to other services: GetSessionToken (boto 2's
// STS connection, SDK profiles with MFA), GetCallerIdentity (the CLI's
// "who am I", many tools' credential check) and AssumeRole. It speaks the
// query protocol (Action=…&Version=2011-06-15, GET or form POST) and mints
// random temporary credentials; Skyhub's edge accepts any credentials unless
// it runs in strict mode, where these temporary keys are not registered.
package sts

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"skyhub/internal/aws/awsproto"
	"skyhub/internal/aws/edge"
)

// Version is the STS API version the handler serves.
const Version = "2011-06-15"

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

// Config configures the handler.
type Config struct {
	AccountID string
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Handler serves STS.
type Handler struct{ cfg Config }

// New returns the handler.
func New(cfg Config) *Handler {
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{cfg: cfg}
}

func randomKey(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + strings.ToUpper(hex.EncodeToString(b))[:20-len(prefix)]
}

func secret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func esc(s string) string { return html.EscapeString(s) }

func (h *Handler) credentials(d time.Duration) string {
	exp := h.cfg.Now().Add(d).UTC().Format("2006-01-02T15:04:05Z")
	return "<Credentials><AccessKeyId>" + randomKey("ASIA", 16) + "</AccessKeyId><SecretAccessKey>" + secret(30) +
		"</SecretAccessKey><SessionToken>" + secret(120) + "</SessionToken><Expiration>" + exp + "</Expiration></Credentials>"
}

func invalid(msg string) *awsproto.Error {
	return &awsproto.Error{Code: "ValidationError", Message: msg}
}

// duration parses DurationSeconds within [lo, hi] (default def).
func duration(form map[string][]string, lo, hi, def int) (time.Duration, *awsproto.Error) {
	v := first(form, "DurationSeconds")
	if v == "" {
		return time.Duration(def) * time.Second, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid("1 validation error detected: Value '" + v + "' at 'durationSeconds' failed to satisfy constraint: Member must have value " +
			map[bool]string{true: "greater than or equal to " + strconv.Itoa(lo), false: "less than or equal to " + strconv.Itoa(hi)}[err == nil && n < lo])
	}
	return time.Duration(n) * time.Second, nil
}

func first(form map[string][]string, k string) string {
	if v := form[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			for k, v := range r.PostForm {
				form[k] = v
			}
		}
	}
	action := first(form, "Action")
	user := edge.IdentityFrom(r.Context()).AccessKey
	if user == "" {
		user = "anonymous"
	}
	var inner string
	switch action {
	case "GetSessionToken":
		d, aerr := duration(form, 900, 129600, 43200)
		if aerr != nil {
			awsproto.WriteQueryError(w, r, xmlns, aerr)
			return
		}
		inner = h.credentials(d)
	case "GetCallerIdentity":
		inner = "<Arn>arn:aws:iam::" + h.cfg.AccountID + ":user/" + esc(user) + "</Arn><UserId>" + esc(user) +
			"</UserId><Account>" + h.cfg.AccountID + "</Account>"
	case "AssumeRole":
		role, name := first(form, "RoleArn"), first(form, "RoleSessionName")
		if role == "" || name == "" {
			missing := "roleArn"
			if role != "" {
				missing = "roleSessionName"
			}
			awsproto.WriteQueryError(w, r, xmlns, invalid("1 validation error detected: Value null at '"+missing+"' failed to satisfy constraint: Member must not be null"))
			return
		}
		d, aerr := duration(form, 900, 43200, 3600)
		if aerr != nil {
			awsproto.WriteQueryError(w, r, xmlns, aerr)
			return
		}
		roleName := role[strings.LastIndex(role, "/")+1:]
		id := randomKey("AROA", 16)
		inner = h.credentials(d) + "<AssumedRoleUser><AssumedRoleId>" + id + ":" + esc(name) + "</AssumedRoleId><Arn>arn:aws:sts::" +
			h.cfg.AccountID + ":assumed-role/" + esc(roleName) + "/" + esc(name) + "</Arn></AssumedRoleUser>"
	default:
		awsproto.WriteQueryError(w, r, xmlns, &awsproto.Error{Code: "InvalidAction", Message: "Could not find operation " + action + " for version " + Version})
		return
	}
	awsproto.WriteQueryResponse(w, r, xmlns, action, inner, false)
}
