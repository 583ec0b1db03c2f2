/**
 * The load generator's HTTP/1.1 client: keep-alive sockets, one request in flight per socket, requests
 * written as one pre-built buffer, responses parsed just far enough to know the status and where the body
 * ends (Content-Length or chunked). node:http's client costs more CPU and garbage per request than the
 * mock hub it measures; on 2 shared cores that cost (and its GC pauses) landed in the latency figures of
 * both paths. This client keeps the load generator out of the way, as wrk or autocannon would.
 */
import net from 'node:net';

/** One request to send. */
export interface RawRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** The status and body of a response. */
export interface RawResponse {
  status: number;
  body: string;
}

interface Pending {
  readonly bytes: Buffer;
  readonly resolve: (res: RawResponse) => void;
  readonly reject: (err: Error) => void;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/** Serializes a request once: request line, Host, the given headers, Content-Length, body. */
export function encodeRequest(host: string, req: RawRequest): Buffer {
  let head = `${req.method} ${req.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(req.headers ?? {})) head += `${name}: ${value}\r\n`;
  const body = req.body === undefined ? undefined : Buffer.from(req.body, 'utf8');
  if (body !== undefined || req.method === 'POST') head += `content-length: ${body?.length ?? 0}\r\n`;
  head += '\r\n';
  return body === undefined ? Buffer.from(head, 'latin1') : Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

/** Where a complete response ends in `buf` (and its status), or undefined when more bytes are needed. */
export function parseResponse(buf: Buffer): { end: number; status: number; bodyStart: number; bodyEnd: number; chunks?: Buffer[] } | undefined {
  const headEnd = buf.indexOf(CRLF2);
  if (headEnd < 0) return undefined;
  const head = buf.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  const bodyStart = headEnd + 4;
  const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (lengthMatch) {
    const end = bodyStart + Number(lengthMatch[1]);
    return buf.length >= end ? { end, status, bodyStart, bodyEnd: end } : undefined;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    const chunks: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size in response');
      const dataEnd = lineEnd + 2 + size;
      if (buf.length < dataEnd + 2) return undefined;
      if (size === 0) {
        // No trailers are sent by the servers measured here: the last chunk is "0\r\n\r\n".
        return { end: dataEnd + 2, status, bodyStart, bodyEnd: bodyStart, chunks };
      }
      chunks.push(buf.subarray(lineEnd + 2, dataEnd));
      at = dataEnd + 2;
    }
  }
  // No length and not chunked: only bodiless statuses are expected here.
  return { end: bodyStart, status, bodyStart, bodyEnd: bodyStart };
}

class Connection {
  private readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private current: Pending | undefined;
  closed = false;

  constructor(
    port: number,
    host: string,
    private readonly onIdle: (c: Connection) => void,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.socket = net.connect(port, host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    const fail = (err: Error): void => {
      if (this.closed) return;
      this.closed = true;
      this.current?.reject(err);
      this.current = undefined;
      this.onClose(this);
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('connection closed by the server')));
  }

  get busy(): boolean {
    return this.current !== undefined;
  }

  send(p: Pending): void {
    this.current = p;
    this.socket.write(p.bytes);
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const parsed = parseResponse(this.buf);
    if (!parsed || !this.current) return;
    const body = parsed.chunks ? Buffer.concat(parsed.chunks).toString('utf8') : this.buf.toString('utf8', parsed.bodyStart, parsed.bodyEnd);
    const done = this.current;
    this.current = undefined;
    this.buf = parsed.end < this.buf.length ? this.buf.subarray(parsed.end) : Buffer.alloc(0);
    done.resolve({ status: parsed.status, body });
    this.onIdle(this);
  }
}

/** Up to `maxConnections` keep-alive connections to one origin; requests beyond that wait in order. */
export class RawPool {
  private readonly host: string;
  private readonly port: number;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly queue: Pending[] = [];

  constructor(
    baseUrl: string,
    private readonly maxConnections: number,
  ) {
    const url = new URL(baseUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
  }

  /** Serializes a request for this origin (callers may build it once and send it many times). */
  encode(req: RawRequest): Buffer {
    return encodeRequest(`${this.host}:${this.port}`, req);
  }

  /** Sends pre-encoded request bytes. */
  sendBytes(bytes: Buffer): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const p: Pending = { bytes, resolve, reject };
      const conn = this.idle.pop() ?? (this.all.size < this.maxConnections ? this.open() : undefined);
      if (conn) conn.send(p);
      else this.queue.push(p);
    });
  }

  request(req: RawRequest): Promise<RawResponse> {
    return this.sendBytes(this.encode(req));
  }

  close(): void {
    for (const c of this.all) c.destroy();
    this.all.clear();
    this.idle.length = 0;
    for (const p of this.queue.splice(0)) p.reject(new Error('pool closed'));
  }

  private open(): Connection {
    const c = new Connection(
      this.port,
      this.host,
      (conn) => {
        const next = this.queue.shift();
        if (next) conn.send(next);
        else this.idle.push(conn);
      },
      (conn) => {
        this.all.delete(conn);
        const i = this.idle.indexOf(conn);
        if (i >= 0) this.idle.splice(i, 1);
        // A request still waiting gets a fresh connection.
        const next = this.queue.shift();
        if (next) this.open().send(next);
      },
    );
    this.all.add(c);
    return c;
  }
}
