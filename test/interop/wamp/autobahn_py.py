"""autobahn-python (Debian python3-autobahn, Twisted) against Skyhub's WAMP
router: register, call, progressive results, cancel, subscribe (exact,
prefix, wildcard), publish, and ticket and WAMP-CRA (plain and salted)
authentication.

usage: autobahn_py.py websocket ws://127.0.0.1:PORT/ws json|msgpack
       autobahn_py.py rawsocket 127.0.0.1:PORT json|msgpack
Prints one "ok <step>" line per check and "ALL OK" at the end.
"""
import signal
import sys

from twisted.internet import reactor
from twisted.internet.defer import CancelledError, Deferred
from autobahn.twisted.component import Component, run
from autobahn.twisted.util import sleep
from autobahn.wamp.exception import ApplicationError
from autobahn.wamp.types import CallOptions, PublishOptions, RegisterOptions, SubscribeOptions

kind, where, ser = sys.argv[1], sys.argv[2], sys.argv[3]
signal.alarm(25)  # bound the whole run

if kind == "websocket":
    transport = {"type": "websocket", "url": where, "serializers": [ser], "max_retries": 0}
else:
    host, port = where.rsplit(":", 1)
    transport = {"type": "rawsocket", "url": "rs://%s:%s" % (host, port), "serializer": ser,
                 "endpoint": {"type": "tcp", "host": host, "port": int(port)}, "max_retries": 0}

failures = []
done = set()


def out(line):
    # Twisted's logging replaces sys.stdout; write to the real one.
    sys.__stdout__.write(line + "\n")
    sys.__stdout__.flush()


def check(what, got, want):
    if got != want:
        failures.append("%s: got %r, want %r" % (what, got, want))
    else:
        out("ok " + what)


main = Component(transports=[transport], realm="realm1")


@main.on_join
async def flow(session, details):
    try:
        await session.register(lambda a, b: a + b, "com.example.add2")

        def stream(details=None):
            if details.progress:
                for i in (1, 2, 3):
                    details.progress(i)
            return "done"
        await session.register(stream, "com.example.stream", options=RegisterOptions(details_arg="details"))
        await session.register(lambda: Deferred(), "com.example.slow")
        await session.register(lambda details=None: "prefix:" + details.procedure, "com.example.",
                               options=RegisterOptions(match="prefix", details_arg="details"))

        check("call add2", await session.call("com.example.add2", 2, 3), 5)
        progress = []
        res = await session.call("com.example.stream", options=CallOptions(on_progress=lambda v: progress.append(v)))
        check("progressive final result", res, "done")
        check("progressive results", progress, [1, 2, 3])
        check("pattern registration", await session.call("com.example.other.thing"), "prefix:com.example.other.thing")

        d = session.call("com.example.slow")
        reactor.callLater(0.05, d.cancel)
        try:
            await d
            failures.append("canceled call resolved")
        except CancelledError:
            out("ok cancel")
        except ApplicationError as e:
            check("cancel", e.error, "wamp.error.canceled")
        await sleep(0.1)  # the router's ERROR for the canceled call must not break the session
        check("session alive after cancel", await session.call("com.example.add2", 1, 1), 2)
        try:
            await session.call("org.none")
            failures.append("call to unknown procedure succeeded")
        except ApplicationError as e:
            check("no such procedure", e.error, "wamp.error.no_such_procedure")

        got = {"exact": [], "prefix": [], "wildcard": []}
        await session.subscribe(lambda m: got["exact"].append(m), "com.example.topic")
        await session.subscribe(lambda m, details=None: got["prefix"].append([m, details.topic]), "com.example.",
                                options=SubscribeOptions(match="prefix", details_arg="details"))
        await session.subscribe(lambda m, details=None: got["wildcard"].append([m, details.topic]), "com..topic",
                                options=SubscribeOptions(match="wildcard", details_arg="details"))
        pub = await session.publish("com.example.topic", "hi", options=PublishOptions(acknowledge=True, exclude_me=False))
        check("publication id", isinstance(pub.id, int), True)
        for _ in range(200):
            if got["exact"] and got["prefix"] and got["wildcard"]:
                break
            await sleep(0.01)
        check("event exact", got["exact"], ["hi"])
        check("event prefix", got["prefix"], [["hi", "com.example.topic"]])
        check("event wildcard", got["wildcard"], [["hi", "com.example.topic"]])
    except Exception as e:  # noqa: BLE001 - report anything
        failures.append("main flow: %r" % (e,))
    finally:
        done.add("main")
        session.leave()


def auth_component(name, realm, authentication, want_role):
    c = Component(transports=[transport], realm=realm, authentication=authentication)

    @c.on_join
    def joined(session, details):
        check(name + " role", details.authrole, want_role)
        done.add(name)
        session.leave()

    @c.on_leave
    def left(session, details):
        if want_role is None:
            check(name + " refused", details.reason, "wamp.error.authentication_failed")
            done.add(name)
    return c


if len(sys.argv) > 4 and sys.argv[4] == "wrong-ticket":
    # A refused login fails its component, which stops run(): on its own.
    components = [auth_component("wrong ticket", "authrealm", {"ticket": {"authid": "ticket-user", "ticket": "nope"}}, None)]
    want = {"wrong ticket"}
else:
    components = [
    main,
    auth_component("ticket auth", "authrealm", {"ticket": {"authid": "ticket-user", "ticket": "ticket-pass"}}, "user"),
    auth_component("wampcra auth", "authrealm", {"wampcra": {"authid": "wamp-cra-user", "secret": "cra-secret"}}, "user"),
    auth_component("salted wampcra auth", "authrealm",
                   {"wampcra": {"authid": "wamp-cra-salt-user", "secret": "cra-salt-secret"}}, "user"),
    ]
    want = {"main", "ticket auth", "wampcra auth", "salted wampcra auth"}

try:
    run(components, log_level="warn")
except SystemExit:  # twisted's react() exits when the reactor stops
    pass

if done != want:
    failures.append("not finished: %s" % sorted(want - done))
if failures:
    for f in failures:
        out("FAIL: " + f)
    sys.exit(1)
out("ALL OK")
