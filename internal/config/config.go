// Package config holds Skyhub's typed configuration: documented defaults, a
// JSON config file whose top-level keys follow the lecture's SkyNet config
// (port, rateLimit, log), SKYHUB_* environment overrides (and PORT, as SkyNet
// honoured), and command-line flags. Validate reports every problem at once.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is the whole configuration. The zero value is not valid; start from
// Default().
type Config struct {
	// Port is the main HTTP listener: SkyNet REST, Socket.IO, /ws/v2, WAMP
	// WebSocket, the dashboard, /metrics and /healthz. SkyNet's default 3000.
	Port int `json:"port"`
	// Host is the address to bind; empty means every interface.
	Host string `json:"host"`
	// RateLimit is messages per second per device (token bucket), as SkyNet's
	// rateLimit. 0 disables the limit.
	RateLimit float64 `json:"rateLimit"`
	// Log selects logging: level (debug, info, warn, error) and format (text, json).
	Log LogConfig `json:"log"`
	// DataDir is where embedded storage lives.
	DataDir string `json:"dataDir"`
	// MaxBodyBytes bounds any HTTP request body on the main listener.
	MaxBodyBytes int64 `json:"maxBodyBytes"`
	// ShutdownTimeout bounds graceful shutdown (drain) time.
	ShutdownTimeout Duration `json:"shutdownTimeout"`

	SkyNet SkyNetConfig `json:"skynet"`
	WAMP   WAMPConfig   `json:"wamp"`
	AWS    AWSConfig    `json:"aws"`

	// Runtime holds Go runtime settings applied at start-up.
	Runtime RuntimeConfig `json:"runtime"`
}

// RuntimeConfig is the "runtime" key: the garbage collector's settings.
// The GOGC and GOMEMLIMIT environment variables, when set, win over both.
type RuntimeConfig struct {
	// GCPercent is the GC target percentage (GOGC); -1 turns the GC off
	// except for the memory limit. 0 keeps Go's default (100).
	GCPercent int `json:"gcPercent"`
	// MemoryLimitMiB is the soft memory limit (GOMEMLIMIT) in MiB; the GC
	// runs harder as the heap approaches it. 0 means no limit.
	MemoryLimitMiB int `json:"memoryLimitMiB"`
	// IdleTrim: when the process has been idle for this long after a burst
	// of allocation, the heap headroom the GC percent allowed is returned
	// to the operating system (one collection). 0 turns it off.
	IdleTrim Duration `json:"idleTrim"`
}

// LogConfig is the "log" key.
type LogConfig struct {
	Level  string `json:"level"`
	Format string `json:"format"`
	// Events appends every SkyNet event to this text file as the original's
	// skynet.txt did; empty disables it.
	EventsFile string `json:"eventsFile"`
}

// SkyNetConfig configures the device hub.
type SkyNetConfig struct {
	// BroadcastToAll restores the pre-March-2014 behaviour: broadcasts reach
	// every connected device, not only subscribers.
	BroadcastToAll bool `json:"broadcastToAll"`
	// OfflineMaxMessages bounds the durable queue of an offline device.
	OfflineMaxMessages int `json:"offlineMaxMessages"`
	// OfflineMaxAge drops queued messages older than this.
	OfflineMaxAge Duration `json:"offlineMaxAge"`
	// AuthCacheSize bounds the cache of verified HTTP credentials.
	AuthCacheSize int `json:"authCacheSize"`
	// BcryptCost is the cost of token hashes.
	BcryptCost int `json:"bcryptCost"`
	// EventLogMax bounds the event log (like the original's capped
	// collection): older events are trimmed. 0 keeps every event.
	EventLogMax int `json:"eventLogMax"`
}

// WAMPConfig configures the WAMP router.
type WAMPConfig struct {
	// Path of the WebSocket transport on the main listener.
	Path string `json:"path"`
	// RawSocketPort serves RawSocket over TCP; 0 disables it.
	RawSocketPort int `json:"rawSocketPort"`
	// UniversalPort serves RawSocket and HTTP/WebSocket on one port; 0 disables it.
	UniversalPort int `json:"universalPort"`
	// Realms known at start.
	Realms []RealmConfig `json:"realms"`
	// AutoRealms creates a realm on the first HELLO that names it.
	AutoRealms bool `json:"autoRealms"`
	// OutboundQueueBytes bounds each session's outbound queue.
	OutboundQueueBytes int `json:"outboundQueueBytes"`
	// Extra holds router settings owned by the wamp packages (auth, roles,
	// bridge): decoded by them, so this package need not know their shape.
	Extra json.RawMessage `json:"extra,omitempty"`
}

// RealmConfig names a realm and, optionally, raw settings for it that the
// WAMP router decodes (principals, roles, authenticators).
type RealmConfig struct {
	Name     string          `json:"name"`
	Settings json.RawMessage `json:"settings,omitempty"`
}

// AWSConfig configures the AWS edge.
type AWSConfig struct {
	// Port of the one listener for every AWS service; 0 disables the edge.
	Port int `json:"port"`
	// Region reported in ARNs and URLs.
	Region string `json:"region"`
	// AccountID used in ARNs and queue URLs.
	AccountID string `json:"accountId"`
	// Strict verifies every signature against Credentials; otherwise any key
	// is accepted, as local tools expect.
	Strict bool `json:"strict"`
	// Credentials maps access key IDs to secret keys.
	Credentials map[string]string `json:"credentials"`
	// Extra holds per-service settings owned by the AWS packages.
	Extra json.RawMessage `json:"extra,omitempty"`
	// Kinesis configures the Kinesis Data Streams service.
	Kinesis KinesisConfig `json:"kinesis"`
	// HTTPServer serves the AWS listener's HTTP/1.1: "lean" (the default,
	// internal/httpx/h1) or "net/http" (the fallback). h2c goes to net/http
	// either way.
	HTTPServer string `json:"httpServer"`
}

// KinesisConfig is the "aws.kinesis" key.
type KinesisConfig struct {
	// UnlimitedThroughput lifts the per-shard limits (1 MiB/s and 1000
	// records/s writes, 2 MiB/s and 5 GetRecords/s reads) that are enforced
	// with ProvisionedThroughputExceededException by default.
	UnlimitedThroughput bool `json:"unlimitedThroughput"`
	// StatusDelay is how long a stream stays CREATING, UPDATING or DELETING.
	StatusDelay Duration `json:"statusDelay"`
	// ShardLimit is the account-wide open-shard quota.
	ShardLimit int `json:"shardLimit"`
	// Rules route device messages into streams (also managed over HTTP).
	Rules []KinesisRule `json:"rules"`
}

// KinesisRule routes a device's messages into a Kinesis stream.
type KinesisRule struct {
	Name string `json:"name"`
	// Device is a device UUID, or "*" for every device.
	Device string `json:"device"`
	// Stream receives the records; the partition key is the device UUID.
	Stream string `json:"stream"`
}

// Default returns the documented defaults.
func Default() Config {
	return Config{
		Port:            3000,
		RateLimit:       10,
		Log:             LogConfig{Level: "info", Format: "text"},
		DataDir:         "./data",
		MaxBodyBytes:    1 << 20,
		ShutdownTimeout: Duration(10 * time.Second),
		SkyNet: SkyNetConfig{
			OfflineMaxMessages: 1000,
			OfflineMaxAge:      Duration(7 * 24 * time.Hour),
			AuthCacheSize:      10000,
			BcryptCost:         10,
			EventLogMax:        1000000,
		},
		WAMP: WAMPConfig{
			Path:               "/ws",
			RawSocketPort:      8090,
			UniversalPort:      0,
			Realms:             []RealmConfig{{Name: "realm1"}},
			AutoRealms:         false,
			OutboundQueueBytes: 4 << 20,
		},
		AWS: AWSConfig{
			Port:       4566,
			Region:     "us-east-1",
			AccountID:  "000000000000",
			Kinesis:    KinesisConfig{StatusDelay: Duration(200 * time.Millisecond), ShardLimit: 500},
			HTTPServer: "lean",
		},
		Runtime: RuntimeConfig{GCPercent: 0, MemoryLimitMiB: 256, IdleTrim: Duration(5 * time.Second)},
	}
}

// Load builds the effective configuration: defaults, then the file at path
// (if non-empty), then the environment. Flags are applied by the caller after
// Load and before Validate.
func Load(path string, environ []string) (Config, error) {
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config file: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	if err := c.applyEnv(environ); err != nil {
		return c, err
	}
	return c, nil
}

// envVars lists every environment override: name, and how it sets the field.
func (c *Config) envVars() map[string]func(string) error {
	intv := func(p *int) func(string) error {
		return func(s string) error {
			n, err := strconv.Atoi(s)
			if err != nil {
				return fmt.Errorf("not an integer: %q", s)
			}
			*p = n
			return nil
		}
	}
	return map[string]func(string) error{
		"PORT":                       intv(&c.Port),
		"SKYHUB_PORT":                intv(&c.Port),
		"SKYHUB_HOST":                func(s string) error { c.Host = s; return nil },
		"SKYHUB_DATA":                func(s string) error { c.DataDir = s; return nil },
		"SKYHUB_LOG_LEVEL":           func(s string) error { c.Log.Level = s; return nil },
		"SKYHUB_LOG_FORMAT":          func(s string) error { c.Log.Format = s; return nil },
		"SKYHUB_AWS_PORT":            intv(&c.AWS.Port),
		"SKYHUB_GC_PERCENT":          intv(&c.Runtime.GCPercent),
		"SKYHUB_MEMORY_LIMIT_MIB":    intv(&c.Runtime.MemoryLimitMiB),
		"SKYHUB_WAMP_RAW_PORT":       intv(&c.WAMP.RawSocketPort),
		"SKYHUB_AWS_HTTP_SERVER":     func(s string) error { c.AWS.HTTPServer = s; return nil },
		"SKYHUB_WAMP_UNIVERSAL_PORT": intv(&c.WAMP.UniversalPort),
		"SKYHUB_RATE_LIMIT": func(s string) error {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return fmt.Errorf("not a number: %q", s)
			}
			c.RateLimit = f
			return nil
		},
		"SKYHUB_MAX_BODY_BYTES": func(s string) error {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("not an integer: %q", s)
			}
			c.MaxBodyBytes = n
			return nil
		},
		"SKYHUB_AWS_STRICT": func(s string) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("not a boolean: %q", s)
			}
			c.AWS.Strict = b
			return nil
		},
		"SKYHUB_KINESIS_UNLIMITED": func(s string) error {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("not a boolean: %q", s)
			}
			c.AWS.Kinesis.UnlimitedThroughput = b
			return nil
		},
	}
}

func (c *Config) applyEnv(environ []string) error {
	vars := c.envVars()
	// PORT first so that SKYHUB_PORT wins when both are set.
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	order := []string{"PORT"}
	for k := range vars {
		if k != "PORT" {
			order = append(order, k)
		}
	}
	var errList []error
	for _, k := range order {
		v, ok := env[k]
		if !ok {
			continue
		}
		if err := vars[k](v); err != nil {
			errList = append(errList, fmt.Errorf("environment %s: %w", k, err))
		}
	}
	return errors.Join(errList...)
}

// Validate reports every invalid setting.
func (c *Config) Validate() error {
	var p []error
	port := func(name string, v int, zeroOK bool) {
		if (v == 0 && !zeroOK) || v < 0 || v > 65535 {
			p = append(p, fmt.Errorf("%s: %d is not a valid port", name, v))
		}
	}
	port("port", c.Port, true)
	port("aws.port", c.AWS.Port, true)
	switch c.AWS.HTTPServer {
	case "", "lean", "net/http":
	default:
		p = append(p, fmt.Errorf("aws.httpServer: %q is not \"lean\" or \"net/http\"", c.AWS.HTTPServer))
	}
	if c.AWS.Kinesis.StatusDelay < 0 || c.AWS.Kinesis.ShardLimit < 0 {
		p = append(p, errors.New("aws.kinesis: statusDelay and shardLimit must be >= 0"))
	}
	for i, r := range c.AWS.Kinesis.Rules {
		if r.Device == "" || r.Stream == "" {
			p = append(p, fmt.Errorf("aws.kinesis.rules[%d]: device and stream are required", i))
		}
	}
	port("wamp.rawSocketPort", c.WAMP.RawSocketPort, true)
	port("wamp.universalPort", c.WAMP.UniversalPort, true)
	if c.RateLimit < 0 {
		p = append(p, fmt.Errorf("rateLimit: %v must be >= 0 (0 disables)", c.RateLimit))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p = append(p, fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level))
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		p = append(p, fmt.Errorf("log.format: %q is not one of text, json", c.Log.Format))
	}
	if c.DataDir == "" {
		p = append(p, errors.New("dataDir: must not be empty"))
	}
	if c.MaxBodyBytes <= 0 {
		p = append(p, fmt.Errorf("maxBodyBytes: %d must be > 0", c.MaxBodyBytes))
	}
	if c.ShutdownTimeout <= 0 {
		p = append(p, errors.New("shutdownTimeout: must be > 0"))
	}
	if c.SkyNet.OfflineMaxMessages < 0 {
		p = append(p, errors.New("skynet.offlineMaxMessages: must be >= 0"))
	}
	if c.SkyNet.OfflineMaxAge < 0 {
		p = append(p, errors.New("skynet.offlineMaxAge: must be >= 0"))
	}
	if c.SkyNet.EventLogMax < 0 {
		p = append(p, errors.New("skynet.eventLogMax: must be >= 0 (0 keeps every event)"))
	}
	if c.SkyNet.BcryptCost < 4 || c.SkyNet.BcryptCost > 31 {
		p = append(p, fmt.Errorf("skynet.bcryptCost: %d is outside 4..31", c.SkyNet.BcryptCost))
	}
	if c.Runtime.GCPercent < -1 {
		p = append(p, fmt.Errorf("runtime.gcPercent: %d must be -1 (off), 0 (Go's default) or positive", c.Runtime.GCPercent))
	}
	if c.Runtime.IdleTrim < 0 {
		p = append(p, errors.New("runtime.idleTrim: must be >= 0"))
	}
	if c.Runtime.MemoryLimitMiB < 0 {
		p = append(p, fmt.Errorf("runtime.memoryLimitMiB: %d must be >= 0", c.Runtime.MemoryLimitMiB))
	}
	if c.Runtime.GCPercent == -1 && c.Runtime.MemoryLimitMiB == 0 {
		p = append(p, errors.New("runtime.gcPercent: -1 (GC off) needs a runtime.memoryLimitMiB"))
	}
	if !strings.HasPrefix(c.WAMP.Path, "/") {
		p = append(p, fmt.Errorf("wamp.path: %q must start with /", c.WAMP.Path))
	}
	if c.WAMP.OutboundQueueBytes <= 0 {
		p = append(p, errors.New("wamp.outboundQueueBytes: must be > 0"))
	}
	seen := map[int]string{}
	for name, v := range map[string]int{"port": c.Port, "aws.port": c.AWS.Port,
		"wamp.rawSocketPort": c.WAMP.RawSocketPort, "wamp.universalPort": c.WAMP.UniversalPort} {
		if v == 0 {
			continue
		}
		if other, ok := seen[v]; ok {
			p = append(p, fmt.Errorf("%s and %s both use port %d", name, other, v))
		}
		seen[v] = name
	}
	if c.AWS.Strict && len(c.AWS.Credentials) == 0 {
		p = append(p, errors.New("aws.strict: needs at least one entry in aws.credentials"))
	}
	return errors.Join(p...)
}

// Duration is a time.Duration that reads and writes as a Go duration string
// ("10s", "168h") in JSON, or as a number of seconds.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("bad duration %q", s)
		}
		*d = Duration(v)
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration must be a string like \"10s\" or a number of seconds")
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}
