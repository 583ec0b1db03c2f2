/**
 * A value an adapter relies on that no recorded exchange or published page of the upstream confirms, with
 * where it comes from. Each adapter lists its own as data; docs/mapping.md lists them all (a test keeps the two
 * in step), so an operator sees what to verify with the upstream.
 */

/** One unverified value and its source. */
export interface Assumption {
  /** What is assumed, e.g. "gpt-image-2 num_images on fal". */
  readonly what: string;
  /** The value the adapter uses. */
  readonly value: string;
  /** Where the value comes from, and why it is not confirmed. */
  readonly source: string;
}
