// Command rtecho serves SkyNet's three real-time transports (Socket.IO
// EIO3, Socket.IO 0.9, /ws/v2) with a minimal in-memory relay handler in
// place of the SkyNet event layer: identity answers ready with a fresh
// uuid, message goes to the connection of its "devices" uuid. It measures
// what the framing itself costs, apart from the registry, the hub and its
// durable event log (the whole app is measured with `skyhub serve`).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"skyhub/internal/skynet/realtime"
	"skyhub/internal/skynet/sio09"
	"skyhub/internal/skynet/socketio"
	"skyhub/internal/skynet/wsv2"
)

type relay struct {
	mu    sync.RWMutex
	conns map[string]realtime.Conn
}

type session struct {
	r    *relay
	c    realtime.Conn
	uuid string
}

func (r *relay) Connect(ctx context.Context, c realtime.Conn, q, h map[string]string) realtime.Session {
	c.Emit("identify", map[string]string{"socketid": "x"})
	return &session{r: r, c: c}
}

func (s *session) Event(ctx context.Context, ev string, args []json.RawMessage, ack realtime.Ack) {
	switch ev {
	case "identity":
		var b [16]byte
		rand.Read(b[:])
		s.uuid = hex.EncodeToString(b[:])
		s.r.mu.Lock()
		s.r.conns[s.uuid] = s.c
		s.r.mu.Unlock()
		s.c.Emit("ready", map[string]any{"api": "connect", "status": 201, "uuid": s.uuid, "token": "t"})
	case "message":
		if len(args) == 0 {
			return
		}
		var m map[string]any
		if json.Unmarshal(args[0], &m) != nil {
			return
		}
		to, _ := m["devices"].(string)
		m["fromUuid"] = s.uuid
		s.r.mu.RLock()
		c := s.r.conns[to]
		s.r.mu.RUnlock()
		if c != nil {
			c.Emit("message", m)
		}
	}
}

func (s *session) Closed() {
	if s.uuid != "" {
		s.r.mu.Lock()
		delete(s.r.conns, s.uuid)
		s.r.mu.Unlock()
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18301", "listen address")
	maxlife := flag.Duration("maxlife", 10*time.Minute, "exit after this long")
	flag.Parse()
	h := &relay{conns: map[string]realtime.Conn{}}
	eio, err := socketio.New(socketio.Config{Handler: h})
	if err != nil {
		log.Fatal(err)
	}
	old, err := sio09.New(sio09.Config{Handler: h})
	if err != nil {
		log.Fatal(err)
	}
	ws, err := wsv2.New(wsv2.Config{Handler: h})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.DefaultServeMux
	mux.Handle("/socket.io/", eio)
	mux.Handle("/socket.io/1/", old)
	mux.Handle("GET /ws/v2", ws)
	mux.HandleFunc("GET /memstats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") != "" {
			runtime.GC()
			debug.FreeOSMemory()
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fmt.Fprintf(w, "heap_inuse_kb=%d stack_inuse_kb=%d sys_kb=%d goroutines=%d\n", m.HeapInuse>>10, m.StackInuse>>10, m.Sys>>10, runtime.NumGoroutine())
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case <-time.After(*maxlife):
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	eio.Close()
	old.Close()
	ws.Close()
}
