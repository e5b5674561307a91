package errs

import (
	"errors"
	"io"
	"testing"
)

func TestKindAndMessage(t *testing.T) {
	base := E("kv.Get", NotFound, "device not found")
	wrapped := E("device.Get", base)
	if KindOf(wrapped) != NotFound {
		t.Fatalf("kind = %v, want not found", KindOf(wrapped))
	}
	if Message(wrapped, "x") != "device not found" {
		t.Fatalf("message = %q", Message(wrapped, "x"))
	}
	if KindOf(io.EOF) != Other || KindOf(nil) != Other {
		t.Fatal("plain errors must be Other")
	}
	io := E("op", Internal, io.ErrUnexpectedEOF)
	if Message(io, "internal error") != "internal error" {
		t.Fatal("a cause must never become the client message")
	}
	if !errors.Is(io, io.(*Error).Err) {
		t.Fatal("Unwrap broken")
	}
	over := E("outer", Forbidden, base)
	if KindOf(over) != Forbidden {
		t.Fatal("an explicit kind must win over the inner one")
	}
}
