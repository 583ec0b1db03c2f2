/**
 * The adapter contract (v2): what an upstream adapter declares (as data) and the pure functions it provides.
 * Adapters never do I/O; the shared upstream client sends what they build and hands back what it got.
 *
 * v2 covers synchronous providers as well as queue-and-poll ones:
 * - a submit outcome is a handle to poll (`{ kind: 'handle', ref }`) or a final state (`{ kind: 'final', state }`);
 * - an adapter that declares `synchronous: true` has its submit call made by the task engine in the background
 *   (the client's POST answers 201 queued at once; the task is `processing` while the call runs);
 * - an image is a URL or bytes (`{ data, mimeType }`): bytes go to the BlobStore and the task keeps its URL;
 * - requests may carry per-request headers, a multipart form, a longer timeout and a larger response limit;
 * - capabilities carry aspect ratios, the minimum prompt length and images per call, so the router refuses (and
 *   fails over to another channel) before anything is built; `n` above `imagesPerCall` fans out over several
 *   calls, each one accounted, results in request order.
 */
import type { Family, OutputFormat, Resolution, TaskType } from '../platform/catalog';
import type { ImageIntent, Warning } from '../intent/intent';

/** What an adapter serves for one model family. */
export interface FamilySupport {
  /** Task types served. */
  readonly taskTypes: readonly TaskType[];
  /** Nano resolution tiers served (absent: the family has no tiers). */
  readonly resolutions?: readonly Resolution[];
  /** Output formats the upstream produces for this family. */
  readonly formats: readonly OutputFormat[];
  /** Most images one task may ask for (n), over all the calls it fans out to. */
  readonly maxImages: number;
  /**
   * Most images one upstream call returns (default: maxImages, i.e. one call). Below maxImages, a task asking
   * for more is fanned out over ceil(n / imagesPerCall) calls (synchronous adapters only).
   */
  readonly imagesPerCall?: number;
  /** Most reference images per call. */
  readonly maxReferences: number;
  /** Aspect ratios the upstream takes for this family (`"16:9"`, `"auto"`); absent: every ratio the platform accepts. */
  readonly aspectRatios?: readonly string[];
  /** Fewest prompt characters (code points) the upstream accepts; absent: any non-blank prompt. */
  readonly minPromptLength?: number;
}

/** Everything an adapter serves, as data; the router decides with this and nothing else. */
export type AdapterCapabilities = Readonly<Partial<Record<Family, FamilySupport>>>;

/** An HTTP request to an upstream, relative to the channel's base URL (or absolute on the same origin). */
export interface UpstreamRequest {
  /** HTTP method. */
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the channel base URL, or an absolute URL that must share the base URL's origin. */
  readonly path: string;
  /** JSON body. */
  readonly body?: unknown;
  /** multipart/form-data body instead of JSON (e.g. OpenAI's image edits with the reference files). */
  readonly form?: readonly FormPart[];
  /**
   * Extra headers of this request (e.g. `Prefer: wait`). They never replace the adapter's auth headers, and
   * hop-by-hop or framing headers (Host, Content-Length, Transfer-Encoding, Connection) are refused.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Non-2xx statuses whose body the adapter wants to read itself instead of an error (e.g. fal's failed result). */
  readonly acceptStatuses?: readonly number[];
  /** Time this call may take, in ms (a synchronous generation takes 10-120 s); capped by the client. */
  readonly timeoutMs?: number;
  /** Largest response body accepted, in bytes (base64 images are large); capped by the client. */
  readonly maxResponseBytes?: number;
}

/** One part of a multipart/form-data body: a text field, or a file. */
export type FormPart =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly data: Uint8Array; readonly filename: string; readonly mimeType: string };

/** An upstream HTTP response as handed to an adapter. */
export interface UpstreamResponse {
  /** HTTP status. */
  readonly status: number;
  /** Parsed JSON body (undefined for an empty body). */
  readonly body: unknown;
}

/** A submit the adapter built from an intent. */
export interface BuiltSubmit {
  /** The request to send. */
  readonly request: UpstreamRequest;
  /** Conversions the adapter made (e.g. a size snapped to the upstream's grid). */
  readonly warnings: readonly Warning[];
  /** Facts to show in the platform task's metadata (e.g. requested_size / actual_size). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * The adapter's handle on an upstream job: at least its id, plus whatever the adapter needs to poll it
 * (fal: status and response URLs). Stored with the task; strings only.
 */
export type UpstreamTaskRef = Readonly<{ id: string } & Record<string, string>>;

/** One image an upstream produced, at a URL. */
export interface UpstreamUrlImage {
  /** Where the image can be fetched. */
  readonly url: string;
  /** MIME type, when the upstream says. */
  readonly contentType?: string;
  /** Width in pixels, when known. */
  readonly width?: number;
  /** Height in pixels, when known. */
  readonly height?: number;
}

/** One image an upstream answered as bytes (OpenAI's `b64_json`, Gemini's `inlineData`): stored in the BlobStore. */
export interface UpstreamBytesImage {
  /** The image bytes (decoded from base64 by the adapter). */
  readonly data: Uint8Array;
  /** Its media type (`image/png`, ...). */
  readonly mimeType: string;
  /** Width in pixels, when known. */
  readonly width?: number;
  /** Height in pixels, when known. */
  readonly height?: number;
}

/** One image an upstream produced: a URL or bytes. */
export type UpstreamImage = UpstreamUrlImage | UpstreamBytesImage;

/** True for an image given as bytes. */
export function isBytesImage(image: UpstreamImage): image is UpstreamBytesImage {
  return 'data' in image;
}

/** Upstream-neutral state of an upstream job. */
export interface UpstreamTaskState {
  /** Platform status it maps to. */
  readonly status: 'queued' | 'processing' | 'succeeded' | 'failed';
  /** Progress 0-100, when the upstream reports it. */
  readonly progress?: number;
  /** Images, on success. */
  readonly images: readonly UpstreamImage[];
  /** Why it failed, with secrets already absent (adapters pass upstream text; the client redacts). */
  readonly error?: { readonly code: string; readonly message: string };
}

/** What a submit response says: a handle on a job to poll, or the job's final state (a synchronous answer). */
export type SubmitOutcome =
  | { readonly kind: 'handle'; readonly ref: UpstreamTaskRef }
  | { readonly kind: 'final'; readonly state: UpstreamTaskState };

/** What reading a poll response yields: a state, or another request to make first (e.g. fetch the result). */
export type PollOutcome =
  | { readonly kind: 'state'; readonly state: UpstreamTaskState }
  | { readonly kind: 'follow'; readonly request: UpstreamRequest };

/**
 * How often the task engine polls an open task of this upstream: the first poll `firstMs` after submit, then
 * each delay `factor` times the task's age so far (so delays grow as the task ages), never below `firstMs`
 * nor above `capMs`. With 1000 / 2 / 5000: polls at about 1 s, 2 s, 4 s, 8 s, then every 5 s.
 */
export interface PollCadence {
  /** Delay of the first poll after submit, in ms. */
  readonly firstMs: number;
  /** Growth: the next delay is (factor - 1) x the task's age at the last poll (2: doubling). */
  readonly factor: number;
  /** Longest delay between two polls, in ms. */
  readonly capMs: number;
}

/** The poll cadence of an adapter that declares none: 1 s, then doubling, at most every 5 s. */
export const DEFAULT_POLL_CADENCE: PollCadence = { firstMs: 1000, factor: 2, capMs: 5000 };

/** An upstream adapter. Implementations are plain classes registered in `adapters/index.ts`. */
export interface ImageAdapter {
  /** Unique adapter id, also the folder name under adapters/. */
  readonly id: string;
  /** What it serves, as data. */
  readonly capabilities: AdapterCapabilities;
  /** How often the engine polls its open tasks, as data (DEFAULT_POLL_CADENCE when absent). */
  readonly pollCadence?: PollCadence;
  /**
   * True when the submit call itself generates the images (seconds to minutes; OpenAI, Gemini): the task
   * engine makes the call in the background, never the client's POST, and never sends it twice.
   */
  readonly synchronous?: boolean;
  /**
   * True when the upstream takes reference images as file uploads (bytes), not URLs (OpenAI's multipart image
   * edits). The task engine then fetches every http(s) reference into a `data:` URI before calling
   * `buildSubmit` (src/tasks/reference-bytes.ts: the reference URL policy, the connect-time address guard, no
   * redirects, the per-image size limit, a timeout), so `buildSubmit` only ever sees `data:` URIs. Synchronous
   * adapters only (the fetch is made by the engine, never in the client's POST).
   */
  readonly referenceBytes?: boolean;
  /** Headers that authenticate a request with this upstream's key. */
  authHeaders(apiKey: string): Record<string, string>;
  /** Pure: intent -> upstream submit request. */
  buildSubmit(intent: ImageIntent): BuiltSubmit;
  /** Pure: submit response -> a handle to poll, or the final state (throws UpstreamError 'malformed' when unreadable). */
  parseSubmit(response: UpstreamResponse): SubmitOutcome;
  /** Pure: the first request of a poll (a synchronous adapter whose submit always answers a final state may throw). */
  buildPoll(ref: UpstreamTaskRef): UpstreamRequest;
  /** Pure: a poll response -> state or follow-up request (throws UpstreamError 'malformed' when unreadable). */
  parsePoll(response: UpstreamResponse, ref: UpstreamTaskRef): PollOutcome;
  /** Pure: the text of an upstream error body, to explain a refused request. */
  describeError?(body: unknown): string | undefined;
}
