// Package wamp holds the WAMP v2 message model shared by the router and the
// transports: the message types, their conversion to and from the generic
// list form every serializer encodes, and the Peer seam (nexus-style: a
// session is two message streams, so the router never sees sockets).
package wamp

// MessageType is the WAMP message code (HELLO = 1, ...).
type MessageType int

// Message is one WAMP message.
type Message interface {
	MessageType() MessageType
}

// Peer is one client connection as the router sees it.
type Peer interface {
	// Send queues msg for the client and never blocks. It returns an error
	// when the peer is closed or its byte-bounded outbound queue is full; in
	// the latter case the transport has already closed the session with a
	// reason, logged it and counted it.
	Send(msg Message) error
	// Recv delivers the client's messages in order; it is closed when the
	// connection ends.
	Recv() <-chan Message
	// Close ends the connection.
	Close()
}

// Acceptor is what transports hand new peers to (the router).
type Acceptor interface {
	// Accept runs the session of p until it ends; transports call it on its
	// own goroutine.
	Accept(p Peer)
}
