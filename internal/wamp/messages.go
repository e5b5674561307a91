package wamp

// The WAMP message codes (spec section 1.1).
const (
	HELLO        MessageType = 1
	WELCOME      MessageType = 2
	ABORT        MessageType = 3
	CHALLENGE    MessageType = 4
	AUTHENTICATE MessageType = 5
	GOODBYE      MessageType = 6
	ERROR        MessageType = 8
	PUBLISH      MessageType = 16
	PUBLISHED    MessageType = 17
	SUBSCRIBE    MessageType = 32
	SUBSCRIBED   MessageType = 33
	UNSUBSCRIBE  MessageType = 34
	UNSUBSCRIBED MessageType = 35
	EVENT        MessageType = 36
	CALL         MessageType = 48
	CANCEL       MessageType = 49
	RESULT       MessageType = 50
	REGISTER     MessageType = 64
	REGISTERED   MessageType = 65
	UNREGISTER   MessageType = 66
	UNREGISTERED MessageType = 67
	INVOCATION   MessageType = 68
	INTERRUPT    MessageType = 69
	YIELD        MessageType = 70
)

var typeNames = map[MessageType]string{
	HELLO: "HELLO", WELCOME: "WELCOME", ABORT: "ABORT", CHALLENGE: "CHALLENGE",
	AUTHENTICATE: "AUTHENTICATE", GOODBYE: "GOODBYE", ERROR: "ERROR", PUBLISH: "PUBLISH",
	PUBLISHED: "PUBLISHED", SUBSCRIBE: "SUBSCRIBE", SUBSCRIBED: "SUBSCRIBED",
	UNSUBSCRIBE: "UNSUBSCRIBE", UNSUBSCRIBED: "UNSUBSCRIBED", EVENT: "EVENT", CALL: "CALL",
	CANCEL: "CANCEL", RESULT: "RESULT", REGISTER: "REGISTER", REGISTERED: "REGISTERED",
	UNREGISTER: "UNREGISTER", UNREGISTERED: "UNREGISTERED", INVOCATION: "INVOCATION",
	INTERRUPT: "INTERRUPT", YIELD: "YIELD",
}

func (t MessageType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return "MessageType(" + itoa(int64(t)) + ")"
}

// ID is a WAMP id: an integer in [1, 2^53].
type ID uint64

// MaxID is the largest legal WAMP id (2^53).
const MaxID ID = 1 << 53

// URI names a topic, procedure or error.
type URI string

// Dict is a WAMP dict (Details, Options, ArgumentsKw): string keys.
type Dict = map[string]any

// List is a WAMP list (Arguments).
type List = []any

// Messages. Every message value handed to Peer.Send must be treated as
// immutable by the receiver: the router may send one value to many peers
// (for example one EVENT to every subscriber of a subscription), so a
// transport may cache its encoding.

// Hello opens a session: [HELLO, Realm|uri, Details|dict].
type Hello struct {
	Realm   URI
	Details Dict
}

// Welcome accepts a session: [WELCOME, Session|id, Details|dict].
type Welcome struct {
	Session ID
	Details Dict
}

// Abort ends a session attempt: [ABORT, Details|dict, Reason|uri (, Arguments (, ArgumentsKw))].
type Abort struct {
	Details     Dict
	Reason      URI
	Arguments   List
	ArgumentsKw Dict
}

// Challenge asks for authentication: [CHALLENGE, AuthMethod|string, Extra|dict].
type Challenge struct {
	AuthMethod string
	Extra      Dict
}

// Authenticate answers a challenge: [AUTHENTICATE, Signature|string, Extra|dict].
type Authenticate struct {
	Signature string
	Extra     Dict
}

// Goodbye closes a session: [GOODBYE, Details|dict, Reason|uri].
type Goodbye struct {
	Details Dict
	Reason  URI
}

// Error answers a request with a failure:
// [ERROR, REQUEST.Type|int, REQUEST.Request|id, Details|dict, Error|uri (, Arguments (, ArgumentsKw))].
type Error struct {
	Type        MessageType
	Request     ID
	Details     Dict
	Error       URI
	Arguments   List
	ArgumentsKw Dict
}

// Publish: [PUBLISH, Request|id, Options|dict, Topic|uri (, Arguments (, ArgumentsKw))].
type Publish struct {
	Request     ID
	Options     Dict
	Topic       URI
	Arguments   List
	ArgumentsKw Dict
}

// Published: [PUBLISHED, PUBLISH.Request|id, Publication|id].
type Published struct {
	Request     ID
	Publication ID
}

// Subscribe: [SUBSCRIBE, Request|id, Options|dict, Topic|uri].
type Subscribe struct {
	Request ID
	Options Dict
	Topic   URI
}

// Subscribed: [SUBSCRIBED, SUBSCRIBE.Request|id, Subscription|id].
type Subscribed struct {
	Request      ID
	Subscription ID
}

// Unsubscribe: [UNSUBSCRIBE, Request|id, SUBSCRIBED.Subscription|id].
type Unsubscribe struct {
	Request      ID
	Subscription ID
}

// Unsubscribed: [UNSUBSCRIBED, UNSUBSCRIBE.Request|id (, Details|dict)].
// Details is only sent for subscription revocation.
type Unsubscribed struct {
	Request ID
	Details Dict
}

// Event: [EVENT, Subscription|id, Publication|id, Details|dict (, Arguments (, ArgumentsKw))].
type Event struct {
	Subscription ID
	Publication  ID
	Details      Dict
	Arguments    List
	ArgumentsKw  Dict
}

// Call: [CALL, Request|id, Options|dict, Procedure|uri (, Arguments (, ArgumentsKw))].
type Call struct {
	Request     ID
	Options     Dict
	Procedure   URI
	Arguments   List
	ArgumentsKw Dict
}

// Cancel: [CANCEL, CALL.Request|id, Options|dict].
type Cancel struct {
	Request ID
	Options Dict
}

// Result: [RESULT, CALL.Request|id, Details|dict (, Arguments (, ArgumentsKw))].
type Result struct {
	Request     ID
	Details     Dict
	Arguments   List
	ArgumentsKw Dict
}

// Register: [REGISTER, Request|id, Options|dict, Procedure|uri].
type Register struct {
	Request   ID
	Options   Dict
	Procedure URI
}

// Registered: [REGISTERED, REGISTER.Request|id, Registration|id].
type Registered struct {
	Request      ID
	Registration ID
}

// Unregister: [UNREGISTER, Request|id, REGISTERED.Registration|id].
type Unregister struct {
	Request      ID
	Registration ID
}

// Unregistered: [UNREGISTERED, UNREGISTER.Request|id (, Details|dict)].
type Unregistered struct {
	Request ID
	Details Dict
}

// Invocation: [INVOCATION, Request|id, REGISTERED.Registration|id, Details|dict (, Arguments (, ArgumentsKw))].
type Invocation struct {
	Request      ID
	Registration ID
	Details      Dict
	Arguments    List
	ArgumentsKw  Dict
}

// Interrupt: [INTERRUPT, INVOCATION.Request|id, Options|dict].
type Interrupt struct {
	Request ID
	Options Dict
}

// Yield: [YIELD, INVOCATION.Request|id, Options|dict (, Arguments (, ArgumentsKw))].
type Yield struct {
	Request     ID
	Options     Dict
	Arguments   List
	ArgumentsKw Dict
}

func (*Hello) MessageType() MessageType        { return HELLO }
func (*Welcome) MessageType() MessageType      { return WELCOME }
func (*Abort) MessageType() MessageType        { return ABORT }
func (*Challenge) MessageType() MessageType    { return CHALLENGE }
func (*Authenticate) MessageType() MessageType { return AUTHENTICATE }
func (*Goodbye) MessageType() MessageType      { return GOODBYE }
func (*Error) MessageType() MessageType        { return ERROR }
func (*Publish) MessageType() MessageType      { return PUBLISH }
func (*Published) MessageType() MessageType    { return PUBLISHED }
func (*Subscribe) MessageType() MessageType    { return SUBSCRIBE }
func (*Subscribed) MessageType() MessageType   { return SUBSCRIBED }
func (*Unsubscribe) MessageType() MessageType  { return UNSUBSCRIBE }
func (*Unsubscribed) MessageType() MessageType { return UNSUBSCRIBED }
func (*Event) MessageType() MessageType        { return EVENT }
func (*Call) MessageType() MessageType         { return CALL }
func (*Cancel) MessageType() MessageType       { return CANCEL }
func (*Result) MessageType() MessageType       { return RESULT }
func (*Register) MessageType() MessageType     { return REGISTER }
func (*Registered) MessageType() MessageType   { return REGISTERED }
func (*Unregister) MessageType() MessageType   { return UNREGISTER }
func (*Unregistered) MessageType() MessageType { return UNREGISTERED }
func (*Invocation) MessageType() MessageType   { return INVOCATION }
func (*Interrupt) MessageType() MessageType    { return INTERRUPT }
func (*Yield) MessageType() MessageType        { return YIELD }

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b [24]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
