package wamp

// Standard error and close URIs (spec section 1.5).
const (
	ErrInvalidURI             URI = "wamp.error.invalid_uri"
	ErrNoSuchProcedure        URI = "wamp.error.no_such_procedure"
	ErrProcedureAlreadyExists URI = "wamp.error.procedure_already_exists"
	ErrNoSuchRegistration     URI = "wamp.error.no_such_registration"
	ErrNoSuchSubscription     URI = "wamp.error.no_such_subscription"
	ErrInvalidArgument        URI = "wamp.error.invalid_argument"
	ErrCanceled               URI = "wamp.error.canceled"
	ErrPayloadSizeExceeded    URI = "wamp.error.payload_size_exceeded"
	ErrProtocolViolation      URI = "wamp.error.protocol_violation"
	ErrNotAuthorized          URI = "wamp.error.not_authorized"
	ErrAuthorizationFailed    URI = "wamp.error.authorization_failed"
	ErrNoSuchRealm            URI = "wamp.error.no_such_realm"
	ErrNoSuchRole             URI = "wamp.error.no_such_role"
	ErrTimeout                URI = "wamp.error.timeout"
	ErrNoAvailableCallee      URI = "wamp.error.no_available_callee"
	ErrFeatureNotSupported    URI = "wamp.error.feature_not_supported"
	ErrOptionNotAllowed       URI = "wamp.error.option_not_allowed"
	ErrDiscloseMeDisallowed   URI = "wamp.error.option_disallowed.disclose_me"
	ErrAuthenticationDenied   URI = "wamp.error.authentication_denied"
	ErrAuthenticationFailed   URI = "wamp.error.authentication_failed"
	ErrNoMatchingAuthMethod   URI = "wamp.error.no_matching_auth_method"
	ErrNoSuchPrincipal        URI = "wamp.error.no_such_principal"
	ErrNoSuchSession          URI = "wamp.error.no_such_session"

	CloseSystemShutdown URI = "wamp.close.system_shutdown"
	CloseRealm          URI = "wamp.close.close_realm"
	CloseGoodbyeAndOut  URI = "wamp.close.goodbye_and_out"
	CloseKilled         URI = "wamp.close.killed"
	CloseNormal         URI = "wamp.close.normal"
)

// ProtocolViolation is the ABORT a peer gets for a protocol error; message
// goes into Details.message. Transports send it for frames they cannot
// decode or whose list FromList rejects, then close.
func ProtocolViolation(message string) *Abort {
	return &Abort{Details: Dict{"message": message}, Reason: ErrProtocolViolation}
}
