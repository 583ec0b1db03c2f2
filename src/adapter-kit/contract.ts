/**
 * The adapter contract: what an upstream adapter declares (as data) and the pure functions it provides.
 * Adapters never do I/O; the shared upstream client sends what they build and hands back what it got.
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
  /** Most images per call. */
  readonly maxImages: number;
  /** Most reference images per call. */
  readonly maxReferences: number;
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
  /** Non-2xx statuses whose body the adapter wants to read itself instead of an error (e.g. fal's failed result). */
  readonly acceptStatuses?: readonly number[];
}

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

/** One image an upstream produced. */
export interface UpstreamImage {
  /** Where the image can be fetched. */
  readonly url: string;
  /** MIME type, when the upstream says. */
  readonly contentType?: string;
  /** Width in pixels, when known. */
  readonly width?: number;
  /** Height in pixels, when known. */
  readonly height?: number;
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
  /** Headers that authenticate a request with this upstream's key. */
  authHeaders(apiKey: string): Record<string, string>;
  /** Pure: intent -> upstream submit request. */
  buildSubmit(intent: ImageIntent): BuiltSubmit;
  /** Pure: submit response -> handle on the upstream job (throws UpstreamError 'malformed' when unreadable). */
  parseSubmit(response: UpstreamResponse): UpstreamTaskRef;
  /** Pure: the first request of a poll. */
  buildPoll(ref: UpstreamTaskRef): UpstreamRequest;
  /** Pure: a poll response -> state or follow-up request (throws UpstreamError 'malformed' when unreadable). */
  parsePoll(response: UpstreamResponse, ref: UpstreamTaskRef): PollOutcome;
  /** Pure: the text of an upstream error body, to explain a refused request. */
  describeError?(body: unknown): string | undefined;
}
