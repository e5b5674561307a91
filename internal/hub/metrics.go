package hub

import (
	"github.com/prometheus/client_golang/prometheus"

	"skyhub/internal/errs"
)

// metrics are the hub's counters; registered when Config.Metrics is set.
type metrics struct {
	messages   *prometheus.CounterVec // by result: routed, or the refusal kind
	deliveries prometheus.Counter
	failures   prometheus.Counter // an endpoint refused (slow consumer, closed)
	queued     prometheus.Counter
	devices    prometheus.Gauge // devices with a live connection
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skynet_messages_total",
			Help: "SkyNet messages by result: routed, or refused (rate_limited, not_found, forbidden, invalid, unavailable, other)."}, []string{"result"}),
		deliveries: prometheus.NewCounter(prometheus.CounterOpts{Name: "skynet_deliveries_total",
			Help: "Messages and pushes handed to live connections and streams."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "skynet_delivery_failures_total",
			Help: "Deliveries a connection refused (too slow: it was closed with a reason, or already closing)."}),
		queued: prometheus.NewCounter(prometheus.CounterOpts{Name: "skynet_offline_queued_total",
			Help: "Messages stored for offline devices."}),
		devices: prometheus.NewGauge(prometheus.GaugeOpts{Name: "skynet_online_devices",
			Help: "Devices with at least one live connection."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.messages, m.deliveries, m.failures, m.queued, m.devices} {
			reg.Register(c)
		}
	}
	return m
}

func (m *metrics) refused(err error) {
	r := "other"
	switch errs.KindOf(err) {
	case errs.RateLimited:
		r = "rate_limited"
	case errs.NotFound:
		r = "not_found"
	case errs.Forbidden:
		r = "forbidden"
	case errs.Invalid:
		r = "invalid"
	case errs.Unavailable:
		r = "unavailable"
	}
	m.messages.WithLabelValues(r).Inc()
}
