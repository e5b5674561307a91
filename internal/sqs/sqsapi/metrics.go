package sqsapi

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts requests by action and outcome, and messages by what
// happened to them.
type metrics struct {
	requests *prometheus.CounterVec // action, code ("ok" or the AWS code)
	messages *prometheus.CounterVec // event: sent, received, deleted
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skyhub_sqs_requests_total",
			Help: "SQS requests by action and result code (ok or the AWS error code).",
		}, []string{"action", "code"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skyhub_sqs_messages_total",
			Help: "SQS messages by event: sent, received, deleted.",
		}, []string{"event"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.messages)
	}
	return m
}

// request counts one request; action must already be a known action name
// or "unknown" (label cardinality stays bounded).
func (m *metrics) request(action, code string) {
	m.requests.WithLabelValues(action, code).Inc()
}
