package skynet_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"skyhub/internal/apptest"
	"skyhub/internal/config"
)

type client struct {
	t    *testing.T
	base string
}

func newClient(t *testing.T, mutate func(*config.Config)) *client {
	a := apptest.New(t, mutate)
	return &client{t: t, base: apptest.URL(a, "http")}
}

// do sends a request and decodes the JSON answer (nil for an empty body).
func (c *client) do(method, path, ctype, body string, hdr map[string]string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range hdr {
		req.Header[k] = []string{v}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(strings.TrimSpace(string(b))) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			// bare arrays (GET /v2/devices)
			var arr []any
			if json.Unmarshal(b, &arr) != nil {
				c.t.Fatalf("%s %s: not JSON: %q", method, path, b)
			}
			m = map[string]any{"array": arr}
		}
	}
	return resp.StatusCode, m
}

func (c *client) register(fields string) (uuid, token string) {
	c.t.Helper()
	st, d := c.do("POST", "/devices", "application/x-www-form-urlencoded", fields, nil)
	if st != 200 {
		c.t.Fatalf("register: %d %v", st, d)
	}
	return d["uuid"].(string), d["token"].(string)
}

func errCode(m map[string]any) any {
	e, _ := m["error"].(map[string]any)
	return e["code"]
}

func TestLectureSession(t *testing.T) {
	c := newClient(t, nil)
	st, d := c.do("POST", "/devices", "application/x-www-form-urlencoded", "name=mydevicename&token=mytoken&color=green", nil)
	if st != 200 {
		t.Fatalf("register status %d", st)
	}
	for _, k := range []string{"name", "token", "ipAddress", "uuid", "timestamp", "channel", "online", "_id", "eventCode"} {
		if _, ok := d[k]; !ok {
			t.Errorf("register answer lacks %q: %v", k, d)
		}
	}
	if d["token"] != "mytoken" || d["channel"] != "main" || d["online"] != false || d["eventCode"] != float64(400) || d["ipAddress"] != "127.0.0.1" {
		t.Fatalf("register answer %v", d)
	}
	uuid := d["uuid"].(string)
	st, g := c.do("GET", "/devices/"+uuid, "", "", nil)
	if st != 200 || g["eventCode"] != float64(500) || g["token"] != nil || g["name"] != "mydevicename" || g["_id"] != d["_id"] {
		t.Fatalf("get device: %d %v", st, g)
	}
	st, u := c.do("PUT", "/devices/"+uuid, "application/x-www-form-urlencoded", "token=mytoken&color=red", nil)
	if st != 200 || u["color"] != "red" || u["eventCode"] != float64(401) || u["uuid"] != uuid {
		t.Fatalf("update: %d %v", st, u)
	}
	// the lecture's JSON body sent as a form (curl -d without a JSON type)
	st, m := c.do("POST", "/messages", "application/x-www-form-urlencoded", `{"devices": "`+uuid+`", "message": {"color": "red"}}`, nil)
	if st != 200 || m["devices"] != uuid {
		t.Fatalf("message: %d %v", st, m)
	}
	st, ev := c.do("GET", "/events/"+uuid+"?token=mytoken", "", "", nil)
	evs, _ := ev["events"].([]any)
	if st != 200 || len(evs) != 4 {
		t.Fatalf("events: %d %v", st, ev)
	}
	first := evs[0].(map[string]any)
	if first["eventCode"] != float64(300) || first["id"] == nil || first["message"].(map[string]any)["color"] != "red" {
		t.Fatalf("newest event %v", first)
	}
	codes := []float64{300, 401, 500, 400}
	for i, e := range evs {
		if e.(map[string]any)["eventCode"] != codes[i] {
			t.Fatalf("event %d = %v, want code %v", i, e, codes[i])
		}
	}
	// update kept typed values and never touched uuid/token
	c.do("PUT", "/devices/"+uuid, "", "token=mytoken&count=3&on=true&uuid=hijack", nil)
	_, g = c.do("GET", "/devices/"+uuid, "", "", nil)
	if g["count"] != float64(3) || g["on"] != true || g["uuid"] != uuid {
		t.Fatalf("typed update: %v", g)
	}
	st, q := c.do("GET", "/devices?color=red", "", "", nil)
	if st != 200 || len(q["devices"].([]any)) != 1 || q["devices"].([]any)[0] != uuid {
		t.Fatalf("query: %d %v", st, q)
	}
	// exact uuid match only (the original matched a partial uuid)
	if st, _ := c.do("GET", "/devices/"+uuid[:8], "", "", nil); st != 404 {
		t.Fatalf("partial uuid matched: %d", st)
	}
	if st, a := c.do("GET", "/authenticate/"+uuid+"?token=mytoken", "", "", nil); st != 200 || a["authentication"] != true {
		t.Fatalf("authenticate: %d %v", st, a)
	}
	if st, a := c.do("GET", "/authenticate/"+uuid+"?token=nope", "", "", nil); st != 404 || a["authentication"] != false {
		t.Fatalf("authenticate bad: %d %v", st, a)
	}
	if st, dl := c.do("DELETE", "/devices/"+uuid+"?token=mytoken", "", "", nil); st != 200 || dl["uuid"] != uuid || dl["eventCode"] != float64(402) {
		t.Fatalf("delete: %d %v", st, dl)
	}
	if st, _ := c.do("GET", "/devices/"+uuid, "", "", nil); st != 404 {
		t.Fatalf("deleted device still there: %d", st)
	}
}

func TestAuthStyles(t *testing.T) {
	c := newClient(t, nil)
	uuid, token := c.register("type=gadget")
	basic := base64.StdEncoding.EncodeToString([]byte(uuid + ":" + token))
	styles := map[string]map[string]string{
		"basic":   {"Authorization": "Basic " + basic},
		"bearer":  {"Authorization": "Bearer " + basic},
		"meshblu": {"meshblu_auth_uuid": uuid, "meshblu_auth_token": token},
		"skynet":  {"skynet_auth_uuid": uuid, "skynet_auth_token": token},
		"x-hdr":   {"X-Meshblu-Uuid": uuid, "X-Meshblu-Token": token},
	}
	for name, h := range styles {
		st, d := c.do("GET", "/v2/whoami", "", "", h)
		if st != 200 || d["uuid"] != uuid || d["token"] != nil {
			t.Errorf("%s: %d %v", name, st, d)
		}
	}
	bad := base64.StdEncoding.EncodeToString([]byte(uuid + ":wrong"))
	for _, h := range []map[string]string{{"Authorization": "Basic " + bad}, {"skynet_auth_uuid": uuid, "skynet_auth_token": "x"}, nil} {
		if st, d := c.do("GET", "/v2/whoami", "", "", h); st != 401 || errCode(d) != float64(401) {
			t.Errorf("wrong creds %v: %d %v", h, st, d)
		}
	}
	// PATCH by another device is forbidden; by the device itself 204
	other, otok := c.register("type=other")
	oh := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(other+":"+otok))}
	if st, _ := c.do("PATCH", "/v2/devices/"+uuid, "application/json", `{"color":"blue"}`, oh); st != 403 {
		t.Fatalf("foreign PATCH: %d", st)
	}
	if st, _ := c.do("PATCH", "/v2/devices/"+uuid, "application/json", `{"color":"blue"}`, styles["basic"]); st != 204 {
		t.Fatalf("own PATCH: %d", st)
	}
	if _, d := c.do("GET", "/v2/devices/"+uuid, "", "", oh); d["color"] != "blue" {
		t.Fatalf("after PATCH: %v", d)
	}
}

func TestBadInputKeepsServing(t *testing.T) {
	c := newClient(t, func(cfg *config.Config) { cfg.MaxBodyBytes = 1024 })
	uuid, token := c.register("name=x")
	cases := []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"malformed JSON", "POST", "/devices", "application/json", `{"name":`, 422},
		{"JSON array body", "POST", "/messages", "application/json", `[1,2]`, 422},
		{"trailing garbage", "POST", "/messages", "", `{"devices":"*"} x`, 422},
		{"oversized", "POST", "/devices", "application/json", `{"name":"` + strings.Repeat("a", 2000) + `"}`, 413},
		{"unknown uuid get", "GET", "/devices/no-such-uuid", "", "", 404},
		{"unknown uuid update", "PUT", "/devices/no-such-uuid", "", "token=x&a=1", 404},
		{"wrong token update", "PUT", "/devices/" + uuid, "", "token=wrong&a=1", 404},
		{"wrong token events", "GET", "/events/" + uuid + "?token=wrong", "", "", 404},
		{"message without devices", "POST", "/messages", "application/json", `{"payload":1}`, 422},
		{"message to unknown", "POST", "/messages", "application/json", `{"devices":"nope","payload":1}`, 404},
		{"message devices not strings", "POST", "/messages", "application/json", `{"devices":[1,2]}`, 422},
		{"bad data limit", "GET", "/data/" + uuid + "?token=" + token + "&limit=abc", "", "", 422},
		{"bad subscribe type", "GET", "/subscribe/" + uuid + "/sideways?token=" + token, "", "", 422},
	}
	for _, tc := range cases {
		st, d := c.do(tc.method, tc.path, tc.ctype, tc.body, nil)
		if st != tc.want || errCode(d) != float64(tc.want) {
			t.Errorf("%s: got %d %v, want %d with error code", tc.name, st, d, tc.want)
		}
		if e, _ := d["error"].(map[string]any); e != nil && strings.Contains(e["message"].(string), "goroutine") {
			t.Errorf("%s: internals leaked: %v", tc.name, e)
		}
	}
	if st, d := c.do("GET", "/status", "", "", nil); st != 200 || d["skynet"] != "online" {
		t.Fatalf("server stopped serving: %d %v", st, d)
	}
	// CORS preflight
	req, _ := http.NewRequest("OPTIONS", c.base+"/devices/"+uuid, nil)
	req.Header.Set("Origin", "http://example.test")
	req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Headers") != "authorization, content-type" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestRateLimit429(t *testing.T) {
	// one token per 100 s: the bucket never refills during the test, so
	// the answers do not depend on the machine's speed
	c := newClient(t, func(cfg *config.Config) { cfg.RateLimit = 0.01 })
	uuid, token := c.register("name=x")
	h := map[string]string{"skynet_auth_uuid": uuid, "skynet_auth_token": token}
	if st, d := c.do("POST", "/messages", "application/json", `{"devices":"`+uuid+`","payload":1}`, h); st != 200 {
		t.Fatalf("first message: %d %v", st, d)
	}
	st, d := c.do("POST", "/messages", "application/json", `{"devices":"`+uuid+`","payload":2}`, h)
	if st != 429 || errCode(d) != float64(429) {
		t.Fatalf("second message: %d %v", st, d)
	}
	resp, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`skynet_messages_total{result="rate_limited"} 1`, `skynet_messages_total{result="routed"} 1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// registrations (a bcrypt each) are limited per IP too: the one above
	// took the only token
	if st, _ := c.do("POST", "/devices", "", "name=flood", nil); st != 429 {
		t.Errorf("second registration: %d, want 429", st)
	}
	// a wrong token: 401, then 429 before any more bcrypt is paid
	var codes []int
	for i := 0; i < 3; i++ {
		st, _ := c.do("GET", "/v2/whoami", "", "", map[string]string{"skynet_auth_uuid": uuid, "skynet_auth_token": "wrong"})
		codes = append(codes, st)
	}
	if codes[0] != 401 || codes[1] != 429 || codes[2] != 429 {
		t.Errorf("failed auth codes %v, want 401 429 429", codes)
	}
}

func TestSubscribeStreams(t *testing.T) {
	c := newClient(t, nil)
	uuid, token := c.register("name=x")
	for _, style := range []string{"array", "ndjson"} {
		req, _ := http.NewRequest("GET", c.base+"/subscribe/"+uuid+"?token="+token, nil)
		if style == "ndjson" {
			req, _ = http.NewRequest("GET", c.base+"/subscribe", nil)
			req.SetBasicAuth(uuid, token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		if style == "array" {
			if line, _ := br.ReadString('\n'); line != "[\n" {
				t.Fatalf("array stream starts with %q", line)
			}
		}
		got := make(chan string, 1)
		go func() {
			line, _ := br.ReadString('\n')
			got <- line
		}()
		// the stream is attached once the headers are out; retry the send
		// until the line arrives
		var line string
		deadline := time.After(5 * time.Second)
	loop:
		for {
			c.do("POST", "/messages", "application/json", `{"devices":"`+uuid+`","payload":"`+style+`"}`, nil)
			select {
			case line = <-got:
				break loop
			case <-time.After(100 * time.Millisecond):
			case <-deadline:
				t.Fatalf("%s: nothing streamed", style)
			}
		}
		resp.Body.Close()
		want := "\n"
		if style == "array" {
			want = ",\n"
		}
		if !strings.HasSuffix(line, want) || strings.HasSuffix(line, ",,\n") {
			t.Fatalf("%s line %q", style, line)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSuffix(line, want)), &m); err != nil || m["payload"] != style {
			t.Fatalf("%s message %q: %v", style, line, err)
		}
	}
}

// TestLargeOfflineQueueNothingLost: a queue longer than a stream's buffer
// arrives complete and in order over successive /subscribe connections
// (each closes when its buffer overflows, after writing what it accepted).
func TestLargeOfflineQueueNothingLost(t *testing.T) {
	c := newClient(t, nil)
	sender, stok := c.register("name=s")
	recv, rtok := c.register("name=r&offlineQueue=true")
	h := map[string]string{"skynet_auth_uuid": sender, "skynet_auth_token": stok}
	const n = 600
	for i := 0; i < n; i++ {
		if st, d := c.do("POST", "/messages", "application/json", fmt.Sprintf(`{"devices":"%s","payload":%d}`, recv, i), h); st != 200 {
			t.Fatalf("message %d: %d %v", i, st, d)
		}
	}
	next := 0
	for attempt := 0; next < n && attempt < 10; attempt++ {
		req, _ := http.NewRequest("GET", c.base+"/subscribe", nil)
		req.SetBasicAuth(recv, rtok)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var m struct{ Payload int }
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("line %q: %v", sc.Text(), err)
			}
			if m.Payload != next {
				t.Fatalf("got message %d, want %d", m.Payload, next)
			}
			next++
			if next == n {
				break
			}
		}
		resp.Body.Close()
		cancel()
	}
	if next != n {
		t.Fatalf("received %d of %d queued messages", next, n)
	}
}

func TestClaimMyDevicesAndData(t *testing.T) {
	c := newClient(t, nil)
	owner, otok := c.register("type=user")
	dev, dtok := c.register("type=sensor")
	oh := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(owner+":"+otok))}
	// nothing owned yet
	if st, _ := c.do("GET", "/mydevices", "", "", oh); st != 404 {
		t.Fatalf("mydevices before claim: %d", st)
	}
	// unowned device on the same LAN (loopback): the claim works
	st, d := c.do("PUT", "/claimdevice/"+dev, "", "name=kitchen", oh)
	if st != 200 || d["owner"] != owner || d["name"] != "kitchen" || d["token"] != nil {
		t.Fatalf("claim: %d %v", st, d)
	}
	// now owned: another device may not claim it
	other, otk := c.register("type=user")
	xh := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(other+":"+otk))}
	if st, _ := c.do("PUT", "/claimdevice/"+dev, "", "", xh); st != 403 {
		t.Fatalf("second claim: %d", st)
	}
	st, md := c.do("GET", "/mydevices?type=sensor", "", "", oh)
	if ds, _ := md["devices"].([]any); st != 200 || len(ds) != 1 || ds[0].(map[string]any)["uuid"] != dev {
		t.Fatalf("mydevices: %d %v", st, md)
	}
	// the owner may configure it (configure rule), the other device not
	if st, _ := c.do("PATCH", "/v2/devices/"+dev, "application/json", `{"color":"red"}`, oh); st != 204 {
		t.Fatalf("owner PATCH: %d", st)
	}
	// sensor data: write with the device's token, read back in a window
	for i := 0; i < 3; i++ {
		if st, p := c.do("POST", "/data/"+dev, "", fmt.Sprintf("token=%s&temp=%d", dtok, 20+i), nil); st != 201 || p["temp"] != float64(20+i) {
			t.Fatalf("data write: %d %v", st, p)
		}
	}
	st, rd := c.do("GET", "/data/"+dev+"?token="+dtok+"&limit=2", "", "", nil)
	pts, _ := rd["data"].([]any)
	if st != 200 || len(pts) != 2 || pts[0].(map[string]any)["temp"] != float64(22) {
		t.Fatalf("data read: %d %v", st, rd)
	}
	if st, _ := c.do("GET", "/data/"+dev+"?token=wrong", "", "", nil); st != 404 {
		t.Fatalf("data read with a wrong token: %d", st)
	}
	// the owner reads it with its own credentials
	if st, rd := c.do("GET", "/data/"+dev+"?start=2000-01-01T00:00:00Z", "", "", oh); st != 200 || len(rd["data"].([]any)) != 3 {
		t.Fatalf("owner data read: %d %v", st, rd)
	}
}

func TestServerSideSubscriptions(t *testing.T) {
	c := newClient(t, nil)
	a, atok := c.register("name=a")
	b, btok := c.register("name=b")
	auth := func(u, tok string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+tok))}
	}
	ah, bh := auth(a, atok), auth(b, btok)
	if st, d := c.do("POST", "/v2/devices/"+b+"/subscriptions/"+a+"/broadcast.sent", "", "", bh); st != 201 || d["type"] != "broadcast" {
		t.Fatalf("create: %d %v", st, d)
	}
	// what a sends directly is a's business: b may not subscribe to it
	if st, _ := c.do("POST", "/v2/devices/"+b+"/subscriptions/"+a+"/message.sent", "", "", bh); st != 403 {
		t.Fatalf("sent subscription without rights: %d", st)
	}
	// nor subscribe a on a's behalf
	if st, _ := c.do("POST", "/v2/devices/"+a+"/subscriptions/"+b+"/broadcast", "", "", bh); st != 403 {
		t.Fatalf("subscription for another subscriber: %d", st)
	}
	if st, _ := c.do("POST", "/v2/devices/"+b+"/subscriptions/"+a+"/sideways", "", "", bh); st != 422 {
		t.Fatalf("bad type: %d", st)
	}
	if st, l := c.do("GET", "/v2/devices/"+b+"/subscriptions", "", "", bh); st != 200 || len(l["array"].([]any)) != 1 {
		t.Fatalf("list: %d %v", st, l)
	}
	// b's own stream gets a's broadcasts, once
	req, _ := http.NewRequest("GET", c.base+"/subscribe", nil)
	req.SetBasicAuth(b, btok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(5 * time.Second)
	for got := false; !got; {
		c.do("POST", "/messages", "application/json", `{"devices":"*","payload":"hello"}`, ah)
		select {
		case l := <-lines:
			if !strings.Contains(l, `"payload":"hello"`) || !strings.Contains(l, a) {
				t.Fatalf("streamed %q", l)
			}
			got = true
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("broadcast not delivered to the server-side subscriber")
		}
	}
	if st, _ := c.do("DELETE", "/v2/devices/"+b+"/subscriptions/"+a+"/broadcast", "", "", bh); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	if _, l := c.do("GET", "/v2/devices/"+b+"/subscriptions", "", "", bh); len(l["array"].([]any)) != 0 {
		t.Fatalf("after delete: %v", l)
	}
}
