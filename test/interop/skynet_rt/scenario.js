// The SkyNet real-time scenario every client runs against Skyhub: auth,
// auto-register, whoami, direct message, broadcast through a subscription,
// RPC ack, update with config push, unregister, wrong token refused — or,
// with SCENARIO=ratelimit, the rate limit. A client adapter supplies the
// calls. Prints "ok <step>" lines; exits non-zero on the first failure.
'use strict';

const host = process.env.SKYHUB_HOST || '127.0.0.1';
const port = parseInt(process.env.SKYHUB_PORT, 10);

function fail(msg) {
  console.error('FAIL ' + msg);
  process.exit(1);
}
setTimeout(() => fail('scenario timed out'), parseInt(process.env.SCENARIO_TIMEOUT_MS || '40000', 10)).unref();

function within(ms, what, p) {
  return Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error(what + ' timed out')), ms))]);
}

function ok(step, detail) {
  console.log('ok ' + step + (detail ? ' ' + JSON.stringify(detail) : ''));
}

function check(cond, what, got) {
  if (!cond) fail(what + ': got ' + JSON.stringify(got));
}

// waitFor resolves with the first event `name` on client c whose payload
// satisfies pred.
function waitFor(a, c, name, pred) {
  return new Promise((res) => {
    a.on(c, name, function handler(data, fn) {
      if (!pred || pred(data)) res({ data, fn });
    });
  });
}

async function main(a) {
  if (process.env.SCENARIO === 'ratelimit') return ratelimit(a);
  // auto-register: no uuid
  const A = await within(10000, 'connect A', a.connect({}));
  check(A.ready && A.ready.uuid && A.ready.token, 'auto-register ready', A.ready);
  ok('auto-register', { uuid: A.ready.uuid });
  const B = await within(10000, 'connect B', a.connect({}));
  const C = await within(10000, 'connect C', a.connect({}));
  // auth: reconnect as A with its credentials
  const A2 = await within(10000, 'connect A2', a.connect({ uuid: A.ready.uuid, token: A.ready.token }));
  check(A2.ready && A2.ready.uuid === A.ready.uuid, 'auth ready', A2.ready);
  ok('auth');
  a.close(A2);

  if (a.whoami) {
    const me = await within(10000, 'whoami', a.whoami(A));
    check(me && me.uuid === A.ready.uuid && me.token === undefined, 'whoami', me);
    ok('whoami');
  }

  // direct message A -> B
  const gotB = waitFor(a, B, 'message', (m) => m && m.payload && m.payload.n === 1);
  a.message(A, { devices: [B.ready.uuid], payload: { n: 1 } });
  const dm = (await within(10000, 'direct message', gotB)).data;
  check(dm.fromUuid === A.ready.uuid, 'direct message fromUuid', dm);
  ok('direct-message');

  // broadcast through a subscription: C subscribes to A's broadcasts
  await within(10000, 'subscribe', a.subscribe(C, { uuid: A.ready.uuid }));
  const gotC = waitFor(a, C, 'message', (m) => m && m.payload === 'to-subscribers');
  const bcast = setInterval(() => a.message(A, { devices: '*', payload: 'to-subscribers' }), 300);
  a.message(A, { devices: '*', payload: 'to-subscribers' });
  const bc = (await within(10000, 'broadcast', gotC)).data;
  clearInterval(bcast);
  check(bc.fromUuid === A.ready.uuid, 'broadcast fromUuid', bc);
  ok('broadcast');

  // RPC: B answers a message through its ack; A's callback gets the answer
  if (a.rpc) {
    a.onRPC(B, (msg, fn) => {
      if (msg && msg.payload === 'rpc?' && typeof fn === 'function') fn({ pong: msg.fromUuid });
    });
    const reply = await within(10000, 'rpc', a.rpc(A, { devices: B.ready.uuid, payload: 'rpc?' }));
    check(reply && reply.pong === A.ready.uuid, 'rpc reply', reply);
    ok('rpc-ack');
  }

  // update B with its token from A: B receives config
  const gotCfg = waitFor(a, B, 'config', (d) => d && d.color === 'red');
  const upd = a.update(A, { uuid: B.ready.uuid, token: B.ready.token, color: 'red' });
  const cfg = (await within(10000, 'config push', gotCfg)).data;
  check(cfg.uuid === B.ready.uuid, 'config uuid', cfg);
  if (upd) {
    const u = await within(10000, 'update answer', upd);
    check(u && u.color === 'red', 'update answer', u);
  }
  ok('update-config');

  // unregister C with its token
  const un = a.unregister(A, { uuid: C.ready.uuid, token: C.ready.token });
  if (un) {
    const r = await within(10000, 'unregister', un);
    check(r && r.uuid === C.ready.uuid, 'unregister', r);
  }
  // C can no longer authenticate: every adapter waits for the unregister
  // answer, so the device is gone before this connection starts
  const Cagain = await within(10000, 'connect unregistered', a.connect({ uuid: C.ready.uuid, token: C.ready.token }));
  check(Cagain.notReady, 'unregistered device refused', Cagain.ready);
  ok('unregister');

  // wrong token refused
  const W = await within(10000, 'connect wrong token', a.connect({ uuid: A.ready.uuid, token: 'wrong-token' }));
  check(W.notReady && (W.notReady.status === 401 || W.notReady.status === 404), 'wrong token', W.notReady || W.ready);
  ok('wrong-token');

  if (a.transport) ok('transport', a.transport(A));
  for (const c of [A, B, C, Cagain, W]) a.close(c);
  console.log('PASS');
  setTimeout(() => process.exit(0), 100);
}

async function ratelimit(a) {
  const A = await within(10000, 'connect A', a.connect({}));
  const B = await within(10000, 'connect B', a.connect({}));
  check(A.ready && B.ready, 'ready before the rate limit', [A.ready, B.ready]);
  const limited = waitFor(a, A, 'ratelimited');
  for (let i = 0; i < 30; i++) a.message(A, { devices: [B.ready.uuid], payload: { i } });
  const r = (await within(15000, 'ratelimited', limited)).data;
  check(r && r.code === 429, 'ratelimited', r);
  ok('rate-limit');
  a.close(A);
  a.close(B);
  console.log('PASS');
  setTimeout(() => process.exit(0), 100);
}

module.exports = { main, host, port, fail };
