/**
 * MAX_CONNECTIONS: a cap on the TCP connections the standalone server holds open at once (idle keep-alive
 * connections count). Without one, a client can open sockets until the process runs out of file descriptors
 * or memory. A connection over the cap is answered at once with a 503 `not_ready` envelope, `Retry-After: 1`
 * and `Connection: close`, its request unread, and closed; connections already open are not disturbed
 * (docs/reliability.md, "hostile clients"). node's own `server.maxConnections` would drop the socket unanswered.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { BridgeError } from '../platform/errors';
import { rawErrorResponse } from './http-errors';

/** How long a refused socket may linger to flush its answer before it is destroyed. */
const LINGER_MS = 1000;

/** Caps the open connections of `server` at `max`; returns the number open (for tests and metrics). */
export function capConnections(server: Server, max: number): () => number {
  let open = 0;
  const handlers = server.listeners('connection') as Array<(socket: Socket) => void>;
  server.removeAllListeners('connection');
  const refusal = rawErrorResponse(
    new BridgeError('not_ready', `This server already holds its ${max} connections (MAX_CONNECTIONS); retry shortly, or reuse a keep-alive connection.`, undefined, { 'retry-after': '1' }),
  );
  server.on('connection', (socket: Socket) => {
    if (open >= max) {
      // Read and discard whatever the client sends, so that closing does not reset the answer away.
      socket.on('error', () => undefined);
      socket.resume();
      socket.end(refusal);
      setTimeout(() => socket.destroy(), LINGER_MS).unref();
      return;
    }
    open += 1;
    socket.once('close', () => {
      open -= 1;
    });
    for (const handler of handlers) handler.call(server, socket);
  });
  return () => open;
}
