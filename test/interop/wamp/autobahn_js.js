// autobahn-js against Skyhub's WAMP router: register, call, progressive
// results, cancel, subscribe (exact, prefix, wildcard), publish, and ticket
// and WAMP-CRA (plain and salted) authentication.
//
// env: WAMP_TRANSPORT=websocket|rawsocket, WAMP_URL (websocket),
//      WAMP_HOST/WAMP_PORT (rawsocket), WAMP_SER=json|msgpack|cbor
// Prints one "ok <step>" line per check and "ALL OK" at the end.
'use strict';
const autobahn = require('autobahn');

const transport = process.env.WAMP_TRANSPORT || 'websocket';
const ser = process.env.WAMP_SER || 'json';

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
setTimeout(() => fail('timed out'), 20000).unref();

// A deferred with notify(), so progressive results are observable without
// when.js (autobahn's ES6 deferred has no notify).
function deferred() {
  const d = {};
  d.promise = new Promise((res, rej) => { d.resolve = res; d.reject = rej; });
  d.promise.progress = [];
  d.notify = (v) => d.promise.progress.push(v);
  return d;
}

function options(realm, auth) {
  const o = Object.assign({ realm, max_retries: 0, use_deferred: deferred }, auth || {});
  if (transport === 'rawsocket') {
    o.transports = [{ type: 'rawsocket', host: process.env.WAMP_HOST, port: Number(process.env.WAMP_PORT) }];
  } else {
    const s = { json: autobahn.serializer.JSONSerializer, msgpack: autobahn.serializer.MsgpackSerializer,
      cbor: autobahn.serializer.CBORSerializer }[ser];
    if (!s) fail('unknown serializer ' + ser);
    o.url = process.env.WAMP_URL;
    o.serializers = [new s()];
  }
  return o;
}

function connect(realm, auth) {
  return new Promise((resolve, reject) => {
    const c = new autobahn.Connection(options(realm, auth));
    c.onopen = (session, details) => resolve({ c, session, details });
    c.onclose = (reason, details) => { reject(new Error('closed: ' + reason + ' ' + JSON.stringify(details))); return true; };
    c.open();
  });
}

function eq(what, got, want) {
  if (JSON.stringify(got) !== JSON.stringify(want)) fail(what + ': got ' + JSON.stringify(got) + ', want ' + JSON.stringify(want));
  console.log('ok ' + what);
}

function waitFor(what, pred) {
  return new Promise((resolve) => {
    const t = setInterval(() => { if (pred()) { clearInterval(t); resolve(); } }, 5);
    setTimeout(() => { clearInterval(t); fail('waiting for ' + what); }, 5000).unref();
  });
}

async function main() {
  const A = await connect('realm1');
  const B = await connect('realm1');
  eq('session ids differ', A.session.id !== B.session.id, true);

  // RPC
  await A.session.register('com.example.add2', (args) => args[0] + args[1]);
  await A.session.register('com.example.stream', (args, kwargs, details) => {
    if (!details.progress) return 'no-progress';
    for (let i = 1; i <= 3; i++) details.progress([i]);
    return 'done';
  });
  await A.session.register('com.example.slow', () => new Promise(() => {}));
  await A.session.register('com.example.', (args, kwargs, details) => 'prefix:' + details.procedure, { match: 'prefix' });

  eq('call add2', await B.session.call('com.example.add2', [2, 3]), 5);
  const p = B.session.call('com.example.stream', [], {}, { receive_progress: true });
  eq('progressive final result', await p, 'done');
  eq('progressive results', p.progress, [1, 2, 3]);
  eq('pattern registration', await B.session.call('com.example.other.thing'), 'prefix:com.example.other.thing');

  // Cancel. autobahn-js settles a call canceled in skip/killnowait mode
  // itself and then treats the router's ERROR as a protocol violation, so
  // it is tested in "kill" mode, where it waits for the router's answer.
  const slow = B.session.call('com.example.slow');
  setTimeout(() => slow.cancel({ mode: 'kill' }), 50);
  try {
    await slow;
    fail('canceled call resolved');
  } catch (e) {
    eq('cancel', e.error, 'wamp.error.canceled');
  }
  try {
    await B.session.call('org.none');
    fail('call to unknown procedure succeeded');
  } catch (e) {
    eq('no such procedure', e.error, 'wamp.error.no_such_procedure');
  }

  // PubSub
  const got = { exact: [], prefix: [], wildcard: [] };
  await A.session.subscribe('com.example.topic', (args) => got.exact.push(args[0]));
  await A.session.subscribe('com.example.', (args, kw, d) => got.prefix.push([args[0], d.topic]), { match: 'prefix' });
  await A.session.subscribe('com..topic', (args, kw, d) => got.wildcard.push([args[0], d.topic]), { match: 'wildcard' });
  const pub = await B.session.publish('com.example.topic', ['hi'], {}, { acknowledge: true });
  eq('publication id', typeof pub.id, 'number');
  await waitFor('events', () => got.exact.length && got.prefix.length && got.wildcard.length);
  eq('event exact', got.exact, ['hi']);
  eq('event prefix', got.prefix, [['hi', 'com.example.topic']]);
  eq('event wildcard', got.wildcard, [['hi', 'com.example.topic']]);
  A.c.close();
  B.c.close();

  // Authentication
  const tk = await connect('authrealm', {
    authmethods: ['ticket'], authid: 'ticket-user',
    onchallenge: (session, method) => { if (method !== 'ticket') fail('method ' + method); return 'ticket-pass'; },
  });
  eq('ticket auth role', tk.details.authrole, 'user');
  tk.c.close();
  const cra = await connect('authrealm', {
    authmethods: ['wampcra'], authid: 'wamp-cra-user',
    onchallenge: (session, method, extra) => autobahn.auth_cra.sign('cra-secret', extra.challenge),
  });
  eq('wampcra auth role', cra.details.authrole, 'user');
  cra.c.close();
  const salted = await connect('authrealm', {
    authmethods: ['wampcra'], authid: 'wamp-cra-salt-user',
    onchallenge: (session, method, extra) => {
      const key = autobahn.auth_cra.derive_key('cra-salt-secret', extra.salt, extra.iterations, extra.keylen);
      return autobahn.auth_cra.sign(key, extra.challenge);
    },
  });
  eq('salted wampcra auth role', salted.details.authrole, 'user');
  salted.c.close();
  try {
    await connect('authrealm', { authmethods: ['ticket'], authid: 'ticket-user', onchallenge: () => 'wrong' });
    fail('wrong ticket accepted');
  } catch (e) {
    eq('wrong ticket refused', /authentication_failed/.test(e.message), true);
  }
  console.log('ALL OK');
  process.exit(0);
}

main().catch((e) => fail(e && e.stack || String(e)));
