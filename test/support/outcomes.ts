/** Small readers of adapter outcomes for tests: the handle of a submit, the URLs of a state's images. */
import { isBytesImage, type SubmitOutcome, type UpstreamImage, type UpstreamTaskRef } from '../../src/adapter-kit/contract';

/** The handle a submit answered (throws when it answered a final state). */
export function refOf(outcome: SubmitOutcome): UpstreamTaskRef {
  if (outcome.kind !== 'handle') throw new Error(`expected a handle, got a final state (${outcome.state.status})`);
  return outcome.ref;
}

/** The URLs of images (throws on an image given as bytes). */
export function urlsOf(images: readonly UpstreamImage[]): string[] {
  return images.map((i) => {
    if (isBytesImage(i)) throw new Error('expected URL images, got bytes');
    return i.url;
  });
}
