package transport

import "github.com/prometheus/client_golang/prometheus"

// metrics are the transport's Prometheus series.
type metrics struct {
	sessions        *prometheus.GaugeVec
	connections     *prometheus.CounterVec
	overflow        *prometheus.CounterVec
	tooLarge        *prometheus.CounterVec
	protocolErrors  *prometheus.CounterVec
	handshakeErrors *prometheus.CounterVec
	msgsIn, msgsOut prometheus.Counter
	bytesIn         prometheus.Counter
	bytesOut        prometheus.Counter
	writes          prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sessions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skyhub_wamp_transport_connections_open",
			Help: "Open WAMP transport connections.",
		}, []string{"transport"}),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skyhub_wamp_transport_connections_total",
			Help: "WAMP transport connections established, by transport and serializer.",
		}, []string{"transport", "serializer"}),
		overflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skyhub_wamp_outbound_overflow_total",
			Help: "Sessions closed because their byte-bounded outbound queue overflowed (slow consumers).",
		}, []string{"transport"}),
		tooLarge: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skyhub_wamp_outbound_too_large_total",
			Help: "Outbound messages larger than the client's announced RawSocket limit, by message type (EVENTs are dropped, RESULTs become ERROR payload_size_exceeded, others close the session).",
		}, []string{"type"}),
		protocolErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skyhub_wamp_transport_protocol_errors_total",
			Help: "Connections closed for a framing, decoding or message-shape error.",
		}, []string{"transport"}),
		handshakeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skyhub_wamp_transport_handshake_errors_total",
			Help: "Rejected WebSocket upgrades and RawSocket handshakes.",
		}, []string{"transport"}),
		msgsIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skyhub_wamp_transport_messages_received_total", Help: "WAMP messages received."}),
		msgsOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skyhub_wamp_transport_messages_sent_total", Help: "WAMP messages queued for sending."}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skyhub_wamp_transport_bytes_received_total", Help: "WAMP message bytes received."}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skyhub_wamp_transport_bytes_sent_total", Help: "WAMP message bytes queued for sending."}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skyhub_wamp_transport_writes_total",
			Help: "Socket writes (writev calls) of queued frames; messages_sent_total / writes_total is how many frames each write coalesced."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.sessions, m.connections, m.overflow, m.tooLarge,
			m.protocolErrors, m.handshakeErrors, m.msgsIn, m.msgsOut, m.bytesIn, m.bytesOut, m.writes} {
			reg.MustRegister(c)
		}
	}
	return m
}
