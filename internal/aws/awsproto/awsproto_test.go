package awsproto

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"skyhub/internal/errs"
)

func TestChecksumCheckValues(t *testing.T) {
	in := []byte("123456789")
	for alg, want := range map[string]string{
		"crc32":     "cbf43926",
		"crc32c":    "e3069283",
		"crc64nvme": "ae8b14860a799888",
		"sha1":      "f7c3bc1d808e04732adf679965ccc34ca7ae3441",
		"md5":       "25f9e794323b453885f5181f1b624d0b",
	} {
		h := NewChecksum(alg)
		h.Write(in)
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("%s = %s, want %s", alg, got, want)
		}
	}
	if NewChecksum("nope") != nil {
		t.Error("unknown algorithm returned a hash")
	}
	if got := Checksum("crc32", []byte("hello")); got != "NhCmhg==" {
		t.Errorf("crc32 b64 = %s", got)
	}
	h := http.Header{}
	SetCRC32(h, []byte("{}"))
	if h.Get("x-amz-crc32") != "2745614147" {
		t.Errorf("x-amz-crc32 = %s", h.Get("x-amz-crc32"))
	}
}

func TestJSONError(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("x-amzn-query-mode", "true")
	r = r.WithContext(WithRequestID(r.Context(), "RID"))
	w := httptest.NewRecorder()
	WriteJSONError(w, r, JSON10, "com.amazonaws.sqs", &Error{Code: "QueueDoesNotExist", Message: "gone", QueryCode: "AWS.SimpleQueueService.NonExistentQueue"})
	if w.Code != 400 || w.Header().Get("x-amzn-query-error") != "AWS.SimpleQueueService.NonExistentQueue;Sender" ||
		w.Header().Get("x-amzn-RequestId") != "RID" || w.Header().Get("Content-Type") != "application/x-amz-json-1.0" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	var m map[string]string
	json.Unmarshal(w.Body.Bytes(), &m)
	if m["__type"] != "com.amazonaws.sqs#QueueDoesNotExist" || m["message"] != "gone" {
		t.Fatal(m)
	}
}

func TestQueryAndRestXMLErrors(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	WriteError(w, r, Query, "http://queue.amazonaws.com/doc/2012-11-05/", NewError(403, "SignatureDoesNotMatch", "bad <sig>"))
	b := w.Body.String()
	if w.Code != 403 || !strings.Contains(b, `<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>bad &lt;sig&gt;</Message>`) {
		t.Fatal(w.Code, b)
	}
	w = httptest.NewRecorder()
	WriteError(w, r, RestXML, "", NewError(404, "NoSuchKey", "The specified key does not exist.").With("Key", "a&b"))
	b = w.Body.String()
	if w.Code != 404 || !strings.Contains(b, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key><RequestId>") ||
		w.Header().Get("Content-Type") != "application/xml" || w.Header().Get("x-amz-request-id") == "" {
		t.Fatal(w.Code, b)
	}
	w = httptest.NewRecorder()
	WriteError(w, httptest.NewRequest("HEAD", "/", nil), RestXML, "", NewError(404, "NoSuchKey", "x"))
	if w.Code != 404 || w.Body.Len() != 0 {
		t.Fatal("HEAD error has a body")
	}
}

func TestAs(t *testing.T) {
	m := KindMap{errs.NotFound: NewError(404, "NoSuchThing", "not there")}
	if e := As(errs.E("op", errs.NotFound, "the thing x"), m); e.Code != "NoSuchThing" || e.Message != "the thing x" || e.Status != 404 {
		t.Fatal(e)
	}
	if e := As(errs.E("op", errs.Internal, "secret detail"), m); e.Status != 500 || strings.Contains(e.Message, "secret") {
		t.Fatal(e)
	}
	ae := NewError(409, "X", "y")
	if As(errs.E("op", ae), m) != ae {
		t.Fatal("wrapped *Error not returned")
	}
}
