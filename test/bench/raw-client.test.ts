/**
 * The benchmark's load-generator client must read responses exactly (a misparse would count a wrong
 * status or hang a phase). Checked against a real node:http server on loopback; no timing is asserted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeRequest, parseResponse, RawPool } from '../../bench/raw-client';

describe('bench raw client', () => {
  let server: http.Server;
  let base: string;
  const seen: Array<{ method?: string; url?: string; host?: string; auth?: string; body: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method, url: req.url, host: req.headers.host, auth: req.headers.authorization, body });
        if (req.url === '/chunked') {
          res.writeHead(201, { 'content-type': 'application/json' });
          res.write('{"part":');
          res.end('"two"}');
          return;
        }
        if (req.url === '/missing') {
          res.writeHead(404, { 'content-type': 'application/json', 'content-length': '2' });
          res.end('{}');
          return;
        }
        const text = JSON.stringify({ echo: body, url: req.url });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('encodes the request line, Host, headers, Content-Length and body', () => {
    const bytes = encodeRequest('h:1', { method: 'POST', path: '/p?q=1', headers: { authorization: 'Bearer k' }, body: '{"a":"é"}' });
    expect(bytes.toString('utf8')).toBe('POST /p?q=1 HTTP/1.1\r\nhost: h:1\r\nauthorization: Bearer k\r\ncontent-length: 10\r\n\r\n{"a":"é"}');
  });

  it('waits for the whole body, then reports where the response ends', () => {
    const full = Buffer.from('HTTP/1.1 202 Accepted\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1');
    expect(parseResponse(full.subarray(0, 20))).toBeUndefined();
    expect(parseResponse(full.subarray(0, 48))).toBeUndefined();
    expect(parseResponse(full)).toEqual({ end: 49, status: 202, bodyStart: 44, bodyEnd: 49 });
  });

  it('reads chunked bodies', () => {
    const text = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n';
    const parsed = parseResponse(Buffer.from(text));
    expect(parsed?.status).toBe(200);
    expect(parsed?.end).toBe(Buffer.byteLength(text));
    expect(Buffer.concat(parsed?.chunks ?? []).toString()).toBe('abcde');
    expect(parseResponse(Buffer.from(text.slice(0, -2)))).toBeUndefined();
  });

  it('sends over keep-alive connections and returns status and body, queueing beyond the pool size', async () => {
    seen.length = 0;
    const pool = new RawPool(base, 2);
    try {
      const results = await Promise.all([
        pool.request({ method: 'POST', path: '/a', headers: { authorization: 'Bearer one' }, body: '{"n":1}' }),
        pool.request({ method: 'GET', path: '/chunked' }),
        pool.request({ method: 'GET', path: '/missing' }),
        pool.request({ method: 'GET', path: '/b' }),
      ]);
      expect(results).toEqual([
        { status: 200, body: JSON.stringify({ echo: '{"n":1}', url: '/a' }) },
        { status: 201, body: '{"part":"two"}' },
        { status: 404, body: '{}' },
        { status: 200, body: JSON.stringify({ echo: '', url: '/b' }) },
      ]);
      expect(seen.map((s) => `${s.method} ${s.url}`).sort()).toEqual(['GET /b', 'GET /chunked', 'GET /missing', 'POST /a']);
      expect(seen.find((s) => s.url === '/a')).toMatchObject({ host: base.slice('http://'.length), auth: 'Bearer one', body: '{"n":1}' });
    } finally {
      pool.close();
    }
  });

  it('rejects a request whose connection fails', async () => {
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const pool = new RawPool(`http://127.0.0.1:${port}`, 1);
    await expect(pool.request({ method: 'GET', path: '/' })).rejects.toThrow(/ECONNREFUSED/);
    pool.close();
  });
});
