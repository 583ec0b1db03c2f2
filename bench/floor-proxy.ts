/**
 * The benchmark's floor: a bare node:http keep-alive reverse proxy to the mock hub that does nothing but
 * forward (method, path, headers, body; status, headers, body). Whatever a gateway must do between a
 * client and an upstream costs at least this: two HTTP exchanges on loopback. `npm run bench` measures it
 * in the same run as the gateway and prints the gateway's figures as ratios to it (docs/benchmarks.md).
 *
 * Run as a child process: `node floor-proxy.js <upstream base URL>`; prints `{"port":N}` on stdout, exits
 * when its stdin closes or after 30 minutes.
 */
import http from 'node:http';
import { serveAsBenchChild } from './child-server';

const target = new URL(process.argv[2] ?? 'http://127.0.0.1:1');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

const server = http.createServer((req, res) => {
  const headers = { ...req.headers, host: target.host };
  const upstream = http.request({ agent, host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502, { 'content-length': '0' });
    res.end();
  });
  req.pipe(upstream);
});
serveAsBenchChild(server, 30 * 60_000);
