// meshblu@3.0.5 (socket.io-client 1.7.4, Engine.IO 3) against Skyhub.
// TRANSPORTS=polling keeps it on long-polling; default is polling then the
// websocket upgrade; TRANSPORTS=websocket starts on WebSocket.
'use strict';
const Meshblu = require('meshblu');
const { main, host, port, fail } = require('./scenario');

const transports = process.env.TRANSPORTS ? process.env.TRANSPORTS.split(',') : undefined;
const upgrade = process.env.UPGRADE !== '0';

// the socket.io-client socket under Connection > BufferedSocket > ReconnectSocket > SrvSocket
function raw(c) { return c.conn._socket._socket._socket._socket; }

const a = {
  connect(opts) {
    return new Promise((res) => {
      const conn = new Meshblu(Object.assign({
        resolveSrv: false, protocol: 'ws', hostname: host, port,
        options: transports ? { transports, upgrade } : { upgrade },
      }, opts));
      const c = { conn };
      conn.once('ready', (r) => { c.ready = r; res(c); });
      conn.once('notReady', (r) => { c.notReady = r; res(c); });
      conn.on('error', (e) => fail('client error ' + e));
      conn.connect();
    });
  },
  on(c, name, h) { c.conn.on(name, h); },
  whoami(c) { return new Promise((res) => c.conn.whoami(res)); },
  message(c, m) { c.conn.message(m); },
  subscribe(c, data) {
    // meshblu's subscribe has no callback: a whoami after it on the same
    // socket answers once the subscribe was handled (events run in order)
    c.conn.subscribe(data);
    return new Promise((res) => c.conn.whoami(res));
  },
  rpc(c, m) { return new Promise((res) => c.conn.message(m, res)); },
  // meshblu's Connection drops the ack of an incoming message; its
  // socket.io-client socket has it
  onRPC(c, h) { raw(c).on('message', h); },
  update(c, data) { return new Promise((res) => c.conn.update(data, res)); },
  unregister(c, data) { return new Promise((res) => c.conn.unregister(data, res)); },
  transport(c) { return raw(c).io.engine.transport.name; },
  close(c) { try { c.conn.close(() => {}); } catch (e) { /* already closed */ } },
};

main(a).catch((e) => fail(e.stack || String(e)));
