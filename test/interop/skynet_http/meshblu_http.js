// meshblu-http@10.2.0 against Skyhub: register -> whoami -> message (with an
// NDJSON /subscribe stream open) -> update -> unregister; a wrong token is
// refused; the rate limit answers 429. Prints one JSON summary line; the Go
// test (skynet_http_test.go) asserts on it. Bounded: exits after 20 s.
'use strict';
const MeshbluHttp = require('meshblu-http');
const http = require('http');
const Meshblu = require('meshblu'); // socket.io client, to see the config push

const hostname = '127.0.0.1';
const port = parseInt(process.env.SKYHUB_PORT, 10);
const base = {protocol: 'http', hostname, port, resolveSrv: false};
setTimeout(() => { console.error('timed out'); process.exit(2); }, 20000).unref();

const p = (fn) => new Promise((resolve, reject) => fn((err, res) => err ? reject(err) : resolve(res)));
const fail = (what, err) => { console.error(what, err && (err.stack || err)); process.exit(1); };

function openStream(uuid, token) {
  return new Promise((resolve, reject) => {
    const req = http.get({hostname, port, path: '/subscribe', auth: `${uuid}:${token}`}, (res) => {
      if (res.statusCode !== 200) return reject(new Error('subscribe status ' + res.statusCode));
      let buf = '';
      const waiters = [];
      const lines = [];
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          lines.push(JSON.parse(line));
          while (waiters.length && lines.length) waiters.shift()(lines.shift());
        }
      });
      resolve({
        contentType: res.headers['content-type'],
        next: () => new Promise((r) => lines.length ? r(lines.shift()) : waiters.push(r)),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

(async () => {
  const out = {};
  const anon = new MeshbluHttp(base);
  const a = await p((cb) => anon.register({type: 'skyhub-test', color: 'green'}, cb)).catch((e) => fail('register a', e));
  const b = await p((cb) => anon.register({type: 'skyhub-test'}, cb)).catch((e) => fail('register b', e));
  out.registered = {uuid: typeof a.uuid, token: typeof a.token, color: a.color, online: a.online};

  const ca = new MeshbluHttp(Object.assign({uuid: a.uuid, token: a.token}, base));
  const cb_ = new MeshbluHttp(Object.assign({uuid: b.uuid, token: b.token}, base));
  const me = await p((cb) => ca.whoami(cb)).catch((e) => fail('whoami', e));
  out.whoami = {sameUuid: me.uuid === a.uuid, hasToken: 'token' in me, color: me.color};

  const stream = await openStream(b.uuid, b.token).catch((e) => fail('subscribe', e));
  out.streamContentType = stream.contentType;
  await p((cb) => ca.message({devices: [b.uuid], payload: {hello: 'world'}}, cb)).catch((e) => fail('message', e));
  const got = await stream.next();
  out.streamed = {fromOk: got.fromUuid === a.uuid, payload: got.payload, devices: got.devices};
  // a server-side subscription: B gets A's broadcasts on its own stream
  await p((cb) => cb_.createSubscription({subscriberUuid: b.uuid, emitterUuid: a.uuid, type: 'broadcast.sent'}, cb))
    .catch((e) => fail('createSubscription', e));
  const subs = await p((cb) => cb_.subscriptions(b.uuid, cb)).catch((e) => fail('subscriptions', e));
  await p((cb) => ca.message({devices: ['*'], payload: 'to everyone'}, cb)).catch((e) => fail('broadcast', e));
  const bc = await stream.next();
  out.subscription = {listed: subs.length, payload: bc.payload, fromOk: bc.fromUuid === a.uuid};
  stream.close();

  // B is also connected over socket.io (meshblu@3): the PATCH pushes config to it
  const sock = new Meshblu({resolveSrv: false, protocol: 'ws', hostname, port, uuid: b.uuid, token: b.token});
  const configSeen = new Promise((resolve) => sock.on('config', resolve));
  await new Promise((resolve) => { sock.once('ready', resolve); sock.connect(); });
  await p((cb) => cb_.update(b.uuid, {color: 'red'}, cb)).catch((e) => fail('update', e));
  const cfg = await configSeen;
  out.configPush = {uuid: cfg.uuid === b.uuid, color: cfg.color, hasToken: 'token' in cfg};
  sock.close(() => {});
  const bSeen = await p((cb) => ca.device(b.uuid, cb)).catch((e) => fail('device', e));
  out.updated = {color: bSeen.color, hasToken: 'token' in bSeen};

  const wrong = new MeshbluHttp(Object.assign({uuid: a.uuid, token: 'not-the-token'}, base));
  out.wrongToken = await p((cb) => wrong.whoami(cb)).then(() => 'accepted', (e) => e.code);

  let limited = null;
  for (let i = 0; i < 50 && limited === null; i++) {
    await p((cb) => ca.message({devices: [b.uuid], payload: i}, cb)).catch((e) => { limited = e.code; });
  }
  out.rateLimited = limited;

  await p((cb) => ca.unregister({uuid: a.uuid}, cb)).catch((e) => fail('unregister', e));
  out.afterUnregister = await p((cb) => ca.whoami(cb)).then(() => 'still there', (e) => e.code);
  console.log(JSON.stringify(out));
})().catch((e) => fail('script', e));
