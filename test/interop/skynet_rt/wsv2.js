// meshblu-websocket@2.3.8 (plain WebSocket, /ws/v2) against Skyhub.
'use strict';
const MeshbluWebsocket = require('meshblu-websocket');
const { main, host, port, fail } = require('./scenario');

const a = {
  connect(opts) {
    return new Promise((res) => {
      const conn = new MeshbluWebsocket(Object.assign({ hostname: host, port, protocol: 'ws' }, opts));
      const c = { conn, errors: [] };
      // ["error", {...}] frames become 'error' events, which throw unhandled
      conn.on('error', (e) => c.errors.push(e));
      conn.once('ready', (r) => { c.ready = r; res(c); });
      conn.once('notReady', (r) => { c.notReady = r; res(c); });
      conn.connect(() => {});
    });
  },
  on(c, name, h) { c.conn.on(name, h); },
  // Meshblu's websocket API answers a request with a frame named after it,
  // or with ["error", {message, status, frame: [request, ...]}].
  request(c, name, send) {
    return new Promise((res, rej) => {
      const onErr = (e) => {
        if (e && Array.isArray(e.frame) && e.frame[0] === name) {
          c.conn.removeListener(name, onReply);
          c.conn.removeListener('error', onErr);
          rej(new Error(name + ' refused: ' + e.message + ' (' + e.status + ')'));
        }
      };
      const onReply = (d) => { c.conn.removeListener('error', onErr); res(d); };
      c.conn.once(name, onReply);
      c.conn.on('error', onErr);
      send();
    });
  },
  whoami(c) { return a.request(c, 'whoami', () => c.conn.whoami()); },
  message(c, m) { c.conn.message(m); },
  subscribe(c, data) { c.conn.subscribe(data); return Promise.resolve(); },
  // the client's own update(query, params): ["update", [query, {$set: params}]]
  update(c, data) {
    const { uuid, token, ...fields } = data;
    return a.request(c, 'update', () => c.conn.update({ uuid, token }, fields));
  },
  unregister(c, data) { return a.request(c, 'unregister', () => c.conn.unregister(data)); },
  close(c) { try { c.conn.close(); } catch (e) { /* already closed */ } },
};

main(a).catch((e) => fail(e.stack || String(e)));
