/**
 * How a bench server script runs as a child of the bench (`startScript` in bench/processes.ts): keep-alive
 * sockets held for a minute, listening on loopback only at a free port printed as `{"port":N}` on stdout, and
 * stopping by itself when its stdin closes (the bench ended or died) or after `lifetimeMs`.
 */
import type http from 'node:http';

/** Starts `server` as a bench child. */
export function serveAsBenchChild(server: http.Server, lifetimeMs: number): void {
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  setTimeout(() => process.exit(0), lifetimeMs).unref();
}
