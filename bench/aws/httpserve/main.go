// Command httpserve serves the trivial handler of /work/shared/limits'
// httpbare (read a small JSON body, decode it, answer ~100 bytes of JSON)
// through either HTTP/1.1 server Skyhub has for the AWS edge: net/http (as
// httpbare does) or the lean internal/httpx/h1. Driving both with the same
// load generator (ddbbench -notable -scenario rawget, or the limits
// loadgen) gives the HTTP layer's own CPU cost per request. Loopback only;
// it exits by itself after -maxlife.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"skyhub/internal/httpx/h1"
)

var seq atomic.Uint64

func main() {
	addr := flag.String("addr", "127.0.0.1:18090", "listen address (loopback only)")
	server := flag.String("server", "lean", "lean | net/http")
	maxLife := flag.Duration("maxlife", 10*time.Minute, "exit after this long")
	prof := flag.String("cpuprofile", "", "write a CPU profile here until exit")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	host, _, _ := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		log.Fatal("httpserve: loopback addresses only")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /", handle)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "httpserve: %s on %s pid=%d\n", *server, ln.Addr(), os.Getpid())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *maxLife)
	defer cancel()
	var shutdown func(context.Context) error
	done := make(chan error, 1)
	switch *server {
	case "lean":
		s := h1.New(h1.Config{Handler: mux})
		shutdown = s.Shutdown
		go func() { done <- s.Serve(ln) }()
	case "net/http":
		s := &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
		shutdown = s.Shutdown
		go func() { done <- s.Serve(ln) }()
	default:
		log.Fatalf("httpserve: unknown -server %q", *server)
	}
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	shutdown(sctx)
	<-done
}

type putRecord struct {
	StreamName   string
	PartitionKey string
	Data         []byte
}

var contentType = []string{"application/x-amz-json-1.1"}

func handle(w http.ResponseWriter, r *http.Request) {
	var body []byte
	var err error
	if r.ContentLength >= 0 && r.ContentLength <= 1<<20 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, 1<<20))
	}
	if err != nil {
		http.Error(w, "read error", http.StatusBadRequest)
		return
	}
	var rec putRecord
	if err := json.Unmarshal(body, &rec); err != nil || rec.StreamName == "" {
		http.Error(w, `{"__type":"SerializationException"}`, http.StatusBadRequest)
		return
	}
	out := make([]byte, 0, 128)
	out = append(out, `{"SequenceNumber":"495903382714902566085596925383615`...)
	s := strconv.AppendUint(nil, seq.Add(1), 10)
	for i := len(s); i < 23; i++ {
		out = append(out, '0')
	}
	out = append(out, s...)
	out = append(out, `","ShardId":"shardId-000000000000"}`...)
	w.Header()["Content-Type"] = contentType
	w.Write(out)
}
