package edge

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"skyhub/internal/aws/awsproto"
	"skyhub/internal/aws/sigv4"
)

func TestRequestIDLayout(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := requestID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated request ID %q", id)
		}
		seen[id] = true
	}
}

func TestRequestContext(t *testing.T) {
	rc := &reqCtx{Context: awsproto.WithRequestID(context.Background(), "ID")}
	if ProtocolFrom(rc) != awsproto.RestXML || IdentityFrom(rc) != (Identity{}) {
		t.Fatal("unset values leak")
	}
	rc.proto, rc.hasProto = awsproto.JSON11, true
	rc.ident, rc.hasIdent = Identity{AccessKey: "AK", Region: "r", Service: "s"}, true
	ctx, cancel := context.WithCancel(rc) // a service's own derived context
	defer cancel()
	if ProtocolFrom(ctx) != awsproto.JSON11 || IdentityFrom(ctx).AccessKey != "AK" || awsproto.RequestID(ctx) != "ID" {
		t.Fatalf("values through a derived context: %v %+v %q", ProtocolFrom(ctx), IdentityFrom(ctx), awsproto.RequestID(ctx))
	}
	if IdentityFrom(WithIdentity(ctx, Identity{AccessKey: "B"})).AccessKey != "B" {
		t.Fatal("WithIdentity does not override")
	}
}

// FuzzQuickV4Identity: whenever the allocation-free reader accepts a
// header, sigv4.Parse accepts it too with the same identity.
func FuzzQuickV4Identity(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "20260101T000000Z")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101//s3/aws4_request,SignedHeaders=host,Signature=0", "20261301T000000Z")
	f.Add("AWS4-HMAC-SHA256 Credential=/20260101/r/s/aws4_request, SignedHeaders=host, Signature=0", "20260101T000000Z")
	f.Add("AWS4-HMAC-SHA256 Credential=A/2026010/r/s/aws4_request/x, SignedHeaders=, Signature=0", "x")
	f.Fuzz(func(t *testing.T, authz, date string) {
		r, _ := http.NewRequest("POST", "http://h/", nil)
		r.Header.Set("Authorization", authz)
		r.Header.Set("X-Amz-Date", date)
		id, ok := quickV4Identity(r)
		if !ok {
			return
		}
		a, err := sigv4.Parse(r, nil)
		if err != nil {
			t.Fatalf("quick path accepted what Parse rejects: %v", err)
		}
		if a.AccessKey != id.AccessKey || a.Region != id.Region || a.Service != id.Service {
			t.Fatalf("quick %+v, Parse %+v", id, a)
		}
	})
}
