/**
 * The synchronous-upstream benchmark's upstream: a bare node:http server answering Google's generateContent
 * (`POST /v1beta/models/<model>:generateContent`) after a fixed delay with one image as base64 `inlineData`,
 * the answer built once at start (so the mock's own cost stays out of the figures).
 * Run as a child process: `node mock-gemini.js [delayMs=2000] [imageBytes=2097152]`; prints `{"port":N}` on
 * stdout, exits when its stdin closes or after 15 minutes. `GET /stats` -> calls, answered, most calls open at once.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { serveAsBenchChild } from './child-server';

const DELAY_MS = Number(process.argv[2] ?? 2000);
const IMAGE_BYTES = Number(process.argv[3] ?? 2 * 1024 * 1024);
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
// Random bytes behind a PNG signature: the bridge stores bytes as they come (it never decodes an image).
const image = Buffer.concat([PNG_SIGNATURE, randomBytes(Math.max(0, IMAGE_BYTES - PNG_SIGNATURE.length))]);
const answer = Buffer.from(
  JSON.stringify({
    candidates: [{ content: { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: image.toString('base64') } }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 1290, totalTokenCount: 1302 },
    modelVersion: 'gemini-2.5-flash-image',
  }),
);
const GENERATE = /^\/v1beta\/models\/[^/:]+:generateContent$/;

let calls = 0;
let answered = 0;
let open = 0;
let maxOpen = 0;
let firstCallAt = 0;
let lastAnswerAt = 0;

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && GENERATE.test(url)) {
      calls++;
      open++;
      maxOpen = Math.max(maxOpen, open);
      if (firstCallAt === 0) firstCallAt = performance.now();
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': answer.length });
        res.end(answer, () => {
          open--;
          answered++;
          lastAnswerAt = performance.now();
        });
      }, DELAY_MS);
      return;
    }
    const body = req.method === 'GET' && url === '/stats' ? { calls, answered, maxOpen, answerBytes: answer.length, imageBytes: image.length, spanMs: Math.round(lastAnswerAt - firstCallAt) } : { error: 'not found' };
    const text = JSON.stringify(body);
    res.writeHead(body === undefined || 'error' in body ? 404 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});

serveAsBenchChild(server, 15 * 60_000);
