package transport_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/coder/websocket"

	"skyhub/internal/app"
	"skyhub/internal/wamp/codec"
)

// probe is a raw WAMP client: hand-built messages over a real WebSocket
// client (coder/websocket), so the router's answers to exactly what a
// client sends can be checked, including what no well-behaved client sends.
type probe struct {
	t    *testing.T
	c    *websocket.Conn
	sp   codec.Subprotocol
	next uint64
	pend [][]any // the rest of a received batch
}

func dialProbe(t *testing.T, a *app.App, proto string) *probe {
	t.Helper()
	sp, ok := codec.ParseSubprotocol(proto)
	if !ok {
		t.Fatal(proto)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+a.Addr("http")+a.Cfg.WAMP.Path, &websocket.DialOptions{Subprotocols: []string{proto}})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 24)
	t.Cleanup(func() { c.CloseNow() })
	return &probe{t: t, c: c, sp: sp}
}

// id returns the next sequential request id.
func (p *probe) id() uint64 { p.next++; return p.next }

func (p *probe) send(l ...any) {
	p.t.Helper()
	b, err := p.sp.AppendFrame(nil, l)
	if err != nil {
		p.t.Fatal(err)
	}
	p.write(b)
}

func (p *probe) write(b []byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ := websocket.MessageText
	if p.sp.Codec.Binary() {
		typ = websocket.MessageBinary
	}
	if err := p.c.Write(ctx, typ, b); err != nil {
		p.t.Fatal(err)
	}
}

// recv returns the next message (the first of a batch).
func (p *probe) recv() []any {
	p.t.Helper()
	l, err := p.tryRecv(5 * time.Second)
	if err != nil {
		p.t.Fatalf("no message: %v", err)
	}
	return l
}

// tryRecv returns the next message. A read timeout closes the
// connection (coder/websocket), so only use short ones when nothing more
// is expected.
func (p *probe) tryRecv(d time.Duration) ([]any, error) {
	if len(p.pend) > 0 {
		l := p.pend[0]
		p.pend = p.pend[1:]
		return l, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := p.c.Read(ctx)
	if err != nil {
		return nil, err
	}
	err = p.sp.Split(b, func(m []byte) error {
		l, err := p.sp.Codec.Decode(m)
		p.pend = append(p.pend, l)
		return err
	})
	if err != nil {
		return nil, err
	}
	return p.tryRecv(d)
}

// expect reads the next message and checks its type code and, for each
// (index, value) pair, the element at that index.
func (p *probe) expect(code int64, fields ...any) []any {
	p.t.Helper()
	l := p.recv()
	if num(l[0]) != code {
		p.t.Fatalf("got %v, want message type %d", l, code)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		idx := fields[i].(int)
		if idx >= len(l) || !sameValue(l[idx], fields[i+1]) {
			p.t.Fatalf("got %v, want element %d = %v", l, idx, fields[i+1])
		}
	}
	return l
}

// expectClosed checks the router ends the connection.
func (p *probe) expectClosed() {
	p.t.Helper()
	l, err := p.tryRecv(5 * time.Second)
	if err == nil {
		p.t.Fatalf("connection still open; got %v", l)
	}
}

func num(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case uint64:
		return int64(x)
	}
	return -1
}

func sameValue(a, b any) bool {
	switch b.(type) {
	case int, int64, uint64:
		return num(a) == num(toInt64(b))
	}
	return a == b
}

func toInt64(v any) any {
	if i, ok := v.(int); ok {
		return int64(i)
	}
	return v
}

func roles() map[string]any {
	return map[string]any{"roles": map[string]any{
		"caller":    map[string]any{"features": map[string]any{"progressive_call_results": true, "call_canceling": true}},
		"callee":    map[string]any{"features": map[string]any{"progressive_call_results": true}},
		"publisher": map[string]any{}, "subscriber": map[string]any{}}}
}

func (p *probe) join() uint64 {
	p.t.Helper()
	p.send(int64(1), "realm1", roles())
	l := p.expect(2)
	return uint64(num(l[1]))
}

const (
	tHELLO, tWELCOME, tABORT, tGOODBYE, tERROR = 1, 2, 3, 6, 8
	tPUBLISH, tPUBLISHED                       = 16, 17
	tSUBSCRIBE, tSUBSCRIBED                    = 32, 33
	tUNSUBSCRIBE                               = 34
	tEVENT                                     = 36
	tCALL, tCANCEL, tRESULT                    = 48, 49, 50
	tREGISTER, tREGISTERED                     = 64, 65
	tINVOCATION, tINTERRUPT, tYIELD            = 68, 69, 70
)

func dict(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// TestProbes runs the raw protocol probes of the WAMP spec (section 6.2's
// table, then the list under it) against the whole app.
func TestProbes(t *testing.T) {
	a := startApp(t)
	const proto = "wamp.2.json"

	t.Run("01 HELLO unknown realm: ABORT no_such_realm", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.send(int64(tHELLO), "no.such.realm", roles())
		p.expect(tABORT, 2, "wamp.error.no_such_realm")
	})
	t.Run("02 GOODBYE close_realm: GOODBYE goodbye_and_out", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.join()
		p.send(int64(tGOODBYE), dict(), "wamp.close.close_realm")
		p.expect(tGOODBYE, 2, "wamp.close.goodbye_and_out")
	})
	t.Run("03 second HELLO: ABORT protocol_violation", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.join()
		p.send(int64(tHELLO), "realm1", roles())
		p.expect(tABORT, 2, "wamp.error.protocol_violation")
		p.expectClosed()
	})
	t.Run("04 CALL before HELLO: ABORT protocol_violation", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.send(int64(tCALL), p.id(), dict(), "com.x")
		p.expect(tABORT, 2, "wamp.error.protocol_violation")
		p.expectClosed()
	})
	t.Run("05 message type 999: ABORT protocol_violation", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.join()
		p.send(int64(999), int64(1))
		p.expect(tABORT, 2, "wamp.error.protocol_violation")
		p.expectClosed()
	})
	t.Run("06 CALL request ids 1 then 7: ABORT protocol_violation", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.join()
		p.send(int64(tCALL), int64(1), dict(), "com.probe.none")
		p.expect(tERROR, 1, tCALL, 2, 1, 4, "wamp.error.no_such_procedure")
		p.send(int64(tCALL), int64(7), dict(), "com.probe.none")
		p.expect(tABORT, 2, "wamp.error.protocol_violation")
		p.expectClosed()
	})
	t.Run("07 CALL unknown procedure: ERROR no_such_procedure", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.join()
		id := p.id()
		p.send(int64(tCALL), id, dict(), "com.probe.unknown")
		p.expect(tERROR, 1, tCALL, 2, id, 4, "wamp.error.no_such_procedure")
	})
	t.Run("08 SUBSCRIBE bad uri#x: ERROR invalid_uri", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.join()
		id := p.id()
		p.send(int64(tSUBSCRIBE), id, dict(), "bad uri#x")
		p.expect(tERROR, 1, tSUBSCRIBE, 2, id, 4, "wamp.error.invalid_uri")
	})
	t.Run("09 UNSUBSCRIBE unknown id: ERROR no_such_subscription", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.join()
		id := p.id()
		p.send(int64(tUNSUBSCRIBE), id, int64(123456))
		p.expect(tERROR, 1, tUNSUBSCRIBE, 2, id, 4, "wamp.error.no_such_subscription")
	})
	t.Run("10 REGISTER wamp.session.count: ERROR invalid_uri", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.join()
		id := p.id()
		p.send(int64(tREGISTER), id, dict(), "wamp.session.count")
		p.expect(tERROR, 1, tREGISTER, 2, id, 4, "wamp.error.invalid_uri")
	})
	t.Run("11 REGISTER the same uri twice: ERROR procedure_already_exists", func(t *testing.T) {
		p1, p2 := dialProbe(t, a, proto), dialProbe(t, a, proto)
		p1.join()
		p2.join()
		p1.send(int64(tREGISTER), p1.id(), dict(), "com.probe.twice")
		p1.expect(tREGISTERED)
		id := p2.id()
		p2.send(int64(tREGISTER), id, dict(), "com.probe.twice")
		p2.expect(tERROR, 1, tREGISTER, 2, id, 4, "wamp.error.procedure_already_exists")
	})
	t.Run("12 shared registration with mismatched invoke: ERROR procedure_already_exists", func(t *testing.T) {
		p1, p2 := dialProbe(t, a, proto), dialProbe(t, a, proto)
		p1.join()
		p2.join()
		p1.send(int64(tREGISTER), p1.id(), dict("invoke", "roundrobin"), "com.probe.shared")
		p1.expect(tREGISTERED)
		id := p2.id()
		p2.send(int64(tREGISTER), id, dict("invoke", "random"), "com.probe.shared")
		p2.expect(tERROR, 1, tREGISTER, 2, id, 4, "wamp.error.procedure_already_exists")
	})
	t.Run("13 CALL wamp.session.count: RESULT [n]", func(t *testing.T) {
		p := dialProbe(t, a, proto)
		p.join()
		id := p.id()
		p.send(int64(tCALL), id, dict(), "wamp.session.count")
		l := p.expect(tRESULT, 1, id)
		if len(l) < 4 || num(l[3].([]any)[0]) < 1 {
			t.Fatalf("session count result %v", l)
		}
	})
	t.Run("14 receive_progress to a callee announcing only progressive_call_results", func(t *testing.T) {
		callee, caller := dialProbe(t, a, proto), dialProbe(t, a, proto)
		callee.join() // announces progressive_call_results, not call_canceling
		caller.join()
		callee.send(int64(tREGISTER), callee.id(), dict(), "com.probe.progress")
		reg := callee.expect(tREGISTERED)
		cid := caller.id()
		caller.send(int64(tCALL), cid, dict("receive_progress", true), "com.probe.progress")
		inv := callee.expect(tINVOCATION, 2, reg[2])
		if inv[3].(map[string]any)["receive_progress"] != true {
			t.Fatalf("INVOCATION details %v lack receive_progress", inv[3])
		}
		callee.send(int64(tYIELD), inv[1], dict("progress", true), []any{"p1"})
		r := caller.expect(tRESULT, 1, cid)
		if r[2].(map[string]any)["progress"] != true {
			t.Fatalf("progressive RESULT %v", r)
		}
		callee.send(int64(tYIELD), inv[1], dict(), []any{"done"})
		r = caller.expect(tRESULT, 1, cid)
		if r[2].(map[string]any)["progress"] == true || r[3].([]any)[0] != "done" {
			t.Fatalf("final RESULT %v", r)
		}
	})

	// The list under the table.
	t.Run("batched framing", func(t *testing.T) {
		for _, bp := range []string{"wamp.2.json.batched", "wamp.2.msgpack.batched", "wamp.2.cbor.batched"} {
			p := dialProbe(t, a, bp)
			// HELLO and a CALL in one WebSocket message.
			b, _ := p.sp.AppendFrame(nil, []any{int64(tHELLO), "realm1", roles()})
			b, _ = p.sp.AppendFrame(b, []any{int64(tCALL), int64(1), dict(), "wamp.session.count"})
			p.write(b)
			p.expect(tWELCOME)
			p.expect(tRESULT, 1, 1)
			// An empty batch fails the transport.
			p.write(nil)
			p.expect(tABORT, 2, "wamp.error.protocol_violation")
			p.expectClosed()
		}
	})
	t.Run("callee leaves mid-call: caller gets ERROR canceled", func(t *testing.T) {
		callee, caller := dialProbe(t, a, proto), dialProbe(t, a, proto)
		callee.join()
		caller.join()
		callee.send(int64(tREGISTER), callee.id(), dict(), "com.probe.leaver")
		callee.expect(tREGISTERED)
		cid := caller.id()
		caller.send(int64(tCALL), cid, dict(), "com.probe.leaver")
		callee.expect(tINVOCATION)
		callee.c.CloseNow()
		caller.expect(tERROR, 1, tCALL, 2, cid, 4, "wamp.error.canceled")
	})
	t.Run("caller leaves mid-call: callee gets INTERRUPT killnowait", func(t *testing.T) {
		callee, caller := dialProbe(t, a, proto), dialProbe(t, a, proto)
		callee.send(int64(tHELLO), "realm1", dict("roles", dict("callee", dict("features", dict("call_canceling", true)))))
		callee.expect(tWELCOME)
		caller.join()
		callee.send(int64(tREGISTER), callee.id(), dict(), "com.probe.orphan")
		callee.expect(tREGISTERED)
		caller.send(int64(tCALL), caller.id(), dict(), "com.probe.orphan")
		inv := callee.expect(tINVOCATION)
		caller.c.CloseNow()
		in := callee.expect(tINTERRUPT, 1, inv[1])
		if in[2].(map[string]any)["mode"] != "killnowait" {
			t.Fatalf("INTERRUPT %v", in)
		}
	})
	t.Run("cancel modes", func(t *testing.T) {
		for _, mode := range []string{"skip", "kill", "killnowait"} {
			callee, caller := dialProbe(t, a, proto), dialProbe(t, a, proto)
			callee.send(int64(tHELLO), "realm1", dict("roles", dict("callee", dict("features", dict("call_canceling", true)))))
			callee.expect(tWELCOME)
			caller.join()
			proc := "com.probe.cancel." + mode
			callee.send(int64(tREGISTER), callee.id(), dict(), proc)
			callee.expect(tREGISTERED)
			cid := caller.id()
			caller.send(int64(tCALL), cid, dict(), proc)
			inv := callee.expect(tINVOCATION)
			caller.send(int64(tCANCEL), cid, dict("mode", mode))
			switch mode {
			case "skip":
				caller.expect(tERROR, 1, tCALL, 2, cid, 4, "wamp.error.canceled")
				if l, err := callee.tryRecv(200 * time.Millisecond); err == nil {
					t.Fatalf("skip: callee got %v", l)
				}
			case "kill":
				callee.expect(tINTERRUPT, 1, inv[1])
				callee.send(int64(tERROR), int64(tINVOCATION), inv[1], dict(), "wamp.error.canceled")
				caller.expect(tERROR, 1, tCALL, 2, cid, 4, "wamp.error.canceled")
			case "killnowait":
				caller.expect(tERROR, 1, tCALL, 2, cid, 4, "wamp.error.canceled")
				callee.expect(tINTERRUPT, 1, inv[1])
			}
		}
	})
	t.Run("call timeout", func(t *testing.T) {
		callee, caller := dialProbe(t, a, proto), dialProbe(t, a, proto)
		callee.send(int64(tHELLO), "realm1", dict("roles", dict("callee", dict("features", dict("call_canceling", true)))))
		callee.expect(tWELCOME)
		caller.join()
		callee.send(int64(tREGISTER), callee.id(), dict(), "com.probe.slow")
		callee.expect(tREGISTERED)
		cid := caller.id()
		caller.send(int64(tCALL), cid, dict("timeout", int64(100)), "com.probe.slow")
		inv := callee.expect(tINVOCATION)
		caller.expect(tERROR, 1, tCALL, 2, cid, 4, "wamp.error.timeout")
		callee.expect(tINTERRUPT, 1, inv[1])
	})
	t.Run("testament published on disconnect", func(t *testing.T) {
		sub, dying := dialProbe(t, a, proto), dialProbe(t, a, proto)
		sub.join()
		dying.join()
		sub.send(int64(tSUBSCRIBE), sub.id(), dict(), "com.probe.testament")
		sub.expect(tSUBSCRIBED)
		id := dying.id()
		dying.send(int64(tCALL), id, dict(), "wamp.session.add_testament", []any{"com.probe.testament", []any{"gone"}, dict()})
		dying.expect(tRESULT, 1, id)
		dying.c.CloseNow()
		ev := sub.expect(tEVENT)
		if ev[4].([]any)[0] != "gone" {
			t.Fatalf("testament event %v", ev)
		}
	})
	t.Run("black/whitelisting", func(t *testing.T) {
		pub, s1, s2 := dialProbe(t, a, proto), dialProbe(t, a, proto), dialProbe(t, a, proto)
		pub.join()
		id1, id2 := s1.join(), s2.join()
		for _, s := range []*probe{s1, s2} {
			s.send(int64(tSUBSCRIBE), s.id(), dict(), "com.probe.bw")
			s.expect(tSUBSCRIBED)
		}
		// eligible ∩ not excluded: only s1 gets the first, only s2 the second.
		pub.send(int64(tPUBLISH), pub.id(), dict("eligible", []any{id1, id2}, "exclude", []any{id2}), "com.probe.bw", []any{"to-s1"})
		pub.send(int64(tPUBLISH), pub.id(), dict("eligible", []any{id2}), "com.probe.bw", []any{"to-s2"})
		if ev := s1.expect(tEVENT); ev[4].([]any)[0] != "to-s1" {
			t.Fatalf("s1 got %v", ev)
		}
		if ev := s2.expect(tEVENT); ev[4].([]any)[0] != "to-s2" {
			t.Fatalf("s2 got %v", ev)
		}
		if l, err := s1.tryRecv(200 * time.Millisecond); err == nil {
			t.Fatalf("s1 got a second event %v", l)
		}
	})
	t.Run("pattern precedence", func(t *testing.T) {
		// rfc/text/advanced/rpc_pattern_based_registration.md: exact first,
		// then the longest prefix, then wildcard.
		exact, prefix, longer, wild, caller := dialProbe(t, a, proto), dialProbe(t, a, proto), dialProbe(t, a, proto), dialProbe(t, a, proto), dialProbe(t, a, proto)
		for _, p := range []*probe{exact, prefix, longer, wild, caller} {
			p.join()
		}
		regs := []struct {
			p    *probe
			opts map[string]any
			uri  string
		}{
			{exact, dict(), "com.pp.a.b.c"},
			{prefix, dict("match", "prefix"), "com.pp"},
			{longer, dict("match", "prefix"), "com.pp.a"},
			{wild, dict("match", "wildcard"), "com.pp..x"},
		}
		for _, r := range regs {
			r.p.send(int64(tREGISTER), r.p.id(), r.opts, r.uri)
			r.p.expect(tREGISTERED)
		}
		for _, tc := range []struct {
			uri string
			to  *probe
		}{
			{"com.pp.a.b.c", exact}, {"com.pp.a.b", longer}, {"com.pp.z.q", prefix}, {"com.pp.a.x", longer},
		} {
			caller.send(int64(tCALL), caller.id(), dict(), tc.uri)
			inv := tc.to.expect(tINVOCATION)
			if tc.to != exact && inv[3].(map[string]any)["procedure"] != tc.uri {
				t.Fatalf("%s: INVOCATION details %v", tc.uri, inv[3])
			}
			tc.to.send(int64(tYIELD), inv[1], dict())
			caller.expect(tRESULT)
		}
	})
}

// TestRawSocketProbes: handshake errors, PING/PONG and an oversize frame
// against the app's RawSocket port.
func TestRawSocketProbes(t *testing.T) {
	a := startApp(t)
	addr := a.Addr("wamp-rawsocket")
	dial := func(hs []byte) (net.Conn, []byte) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(hs)
		r := make([]byte, 4)
		io.ReadFull(c, r)
		return c, r
	}
	for _, tc := range []struct {
		name   string
		hs     []byte
		answer []byte
	}{
		{"serializer 0", []byte{0x7F, 0xF0, 0, 0}, []byte{0x7F, 0x10, 0, 0}},
		{"unknown serializer", []byte{0x7F, 0xF9, 0, 0}, []byte{0x7F, 0x10, 0, 0}},
		{"reserved bits", []byte{0x7F, 0xF1, 0x80, 0}, []byte{0x7F, 0x30, 0, 0}},
		{"smallest max length accepted", []byte{0x7F, 0x02, 0, 0}, []byte{0x7F, 0xF2, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, r := dial(tc.hs)
			if string(r) != string(tc.answer) {
				t.Fatalf("answer %x, want %x", r, tc.answer)
			}
		})
	}
	t.Run("PING answered by PONG, oversize frame fails the connection", func(t *testing.T) {
		c, _ := dial([]byte{0x7F, 0xF1, 0, 0})
		c.Write([]byte{1, 0, 0, 3, 'a', 'b', 'c'})
		h := make([]byte, 7)
		if _, err := io.ReadFull(c, h); err != nil || h[0] != 2 || string(h[4:]) != "abc" {
			t.Fatalf("pong %x %v", h, err)
		}
		hdr := []byte{0x08, 0, 0, 1} // 16 MiB + 1
		binary.BigEndian.PutUint16(hdr[2:], 1)
		c.Write(hdr)
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatal("oversize frame did not fail the connection")
		}
	})
}
