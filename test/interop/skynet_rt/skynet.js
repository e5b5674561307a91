// skynet@0.0.36 (socket.io-client 0.9.16, the lecture-era client) against Skyhub.
'use strict';
const skynet = require('skynet');
const { main, host, port, fail } = require('./scenario');

const a = {
  connect(opts) {
    return new Promise((res) => {
      const conn = skynet.createConnection(Object.assign({ server: 'http://' + host, port, forceNew: true }, opts));
      const c = { conn };
      conn.once('ready', (r) => { c.ready = r; res(c); });
      conn.once('notReady', (r) => { c.notReady = r; res(c); });
    });
  },
  on(c, name, h) {
    if (name === 'ratelimited') c.conn.socket.on(name, h); // not re-emitted by the client
    else c.conn.on(name, h);
  },
  whoami(c) { return new Promise((res) => c.conn.whoami({}, res)); },
  message(c, m) { c.conn.message(m); },
  subscribe(c, data) { return new Promise((res) => c.conn.subscribe(data, res)); },
  rpc(c, m) { return new Promise((res) => c.conn.message(m, res)); },
  onRPC(c, h) { c.conn.on('message', h); },
  update(c, data) { return new Promise((res) => c.conn.update(data, res)); },
  unregister(c, data) { return new Promise((res) => c.conn.unregister(data, res)); },
  close(c) { try { c.conn.socket.disconnect(); } catch (e) { /* already closed */ } },
};

main(a).catch((e) => fail(e.stack || String(e)));
