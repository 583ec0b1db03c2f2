/**
 * The profile summary (bench/profile-summary.ts) reads a V8 CPU profile the way docs/benchmarks.md reports it:
 * self time per function, inclusive time under the request handler, the stacks of a chosen top frame.
 * Checked on a small hand-made profile whose answers are known.
 */
import { summarizeProfile } from '../../bench/profile-summary';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// (root) -> handleRequest -> parse, and (root) -> handleRequest -> submit -> parse; (root) -> timer; (root) -> (idle).
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    { id: 2, callFrame: frame('handleRequest', 'file:///x/node_modules/fastify/lib/handle-request.js', 23), children: [3, 4] },
    { id: 3, callFrame: frame('parse', 'file:///x/dist/src/a.js', 9) },
    { id: 4, callFrame: frame('submit', 'file:///x/dist/src/b.js', 1), children: [7] },
    { id: 5, callFrame: frame('timer', 'node:internal/timers', 10) },
    { id: 6, callFrame: frame('(idle)') },
    { id: 7, callFrame: frame('parse', 'file:///x/dist/src/a.js', 9) },
  ],
  // Every sample lasts 1 ms (the delta of sample i + 1 is its duration).
  samples: [3, 3, 7, 4, 5, 6, 6, 6],
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('bench profile summary', () => {
  it('adds self time per function, leaves idle out of the shares and counts inclusive time under the handler once per sample', () => {
    const s = summarizeProfile(profile, 10, /^handleRequest /, /^parse /, 3);
    expect(s.totalMs).toBe(8);
    expect(s.idleMs).toBe(3);
    expect(s.selfTop).toEqual([
      { frame: 'parse src/a.js:10', ms: 3, share: 60 },
      { frame: 'submit src/b.js:2', ms: 1, share: 20 },
      { frame: 'timer node:internal/timers:11', ms: 1, share: 20 },
    ]);
    expect(s.underMs).toBe(4);
    expect(s.underTop).toEqual([
      { frame: 'handleRequest fastify/lib/handle-request.js:24', ms: 4, share: 100 },
      { frame: '(root)', ms: 4, share: 100 },
      { frame: 'parse src/a.js:10', ms: 3, share: 75 },
      { frame: 'submit src/b.js:2', ms: 2, share: 50 },
    ]);
    expect(s.callerStacks).toEqual([
      { frame: 'parse src/a.js:10\n      <- handleRequest fastify/lib/handle-request.js:24\n      <- (root)', ms: 2, share: 66.7 },
      { frame: 'parse src/a.js:10\n      <- submit src/b.js:2\n      <- handleRequest fastify/lib/handle-request.js:24', ms: 1, share: 33.3 },
    ]);
  });
});
