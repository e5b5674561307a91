// Package interop holds Skyhub's cross-language tests: each drives a server
// over real sockets with a real third-party client (curl, npm skynet,
// meshblu, meshblu-http, meshblu-websocket, autobahn-js, autobahn-python,
// boto 2, boto3, the AWS CLI, the AWS JS SDK). setup.sh installs the
// clients; `make test` runs it and sets SKYHUB_INTEROP=1, under which a
// missing client is a failure rather than a skip.
package interop
