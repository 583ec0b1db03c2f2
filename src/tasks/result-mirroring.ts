/**
 * A succeeded state of a channel with `mirror_results`, its URL images copied into the BlobStore before the task
 * keeps them (docs/operations.md, "Stored images"). An image that cannot be copied keeps the upstream's URL and
 * the task gets a `result_not_mirrored` warning: the task still succeeds, since the upstream's URL works for a
 * while and failing a paid generation over a copy would lose it. Only the images the task keeps (the first n)
 * are fetched.
 */
import { isBytesImage, type UpstreamImage, type UpstreamTaskState, type UpstreamUrlImage } from '../adapter-kit/contract';
import type { ResultMirror } from '../blobs/result-mirror';
import type { Warning } from '../intent/intent';
import type { ResultUrlCheck } from '../security/result-url-policy';
import type { Logger } from '../core/ports';

/** The state with its images mirrored, the bridge's URLs among them, and the warning for those that were not. */
export interface MirroredState {
  /** The succeeded state, mirrored images with the bridge's URL. */
  readonly state: UpstreamTaskState;
  /** The bridge's URLs (not judged by the result-URL policy). */
  readonly storedUrls: readonly string[];
  /** A `result_not_mirrored` warning when some image kept the upstream's URL. */
  readonly warnings: readonly Warning[];
}

/** Mirrors the first `keep` URL images of a succeeded state; bytes images and the rest are left as they are. */
export async function mirrorSucceededState(state: UpstreamTaskState, keep: number, mirror: ResultMirror, check: ResultUrlCheck, log: Logger): Promise<MirroredState> {
  const kept = state.images.slice(0, Math.max(1, keep));
  const urlImages = kept.filter((i): i is UpstreamUrlImage => !isBytesImage(i));
  if (urlImages.length === 0) return { state, storedUrls: [], warnings: [] };
  const outcome = await mirror.mirror(urlImages, check);
  let next = 0;
  const images: UpstreamImage[] = state.images.map((image, i) => (i < kept.length && !isBytesImage(image) ? (outcome.images[next++] as UpstreamUrlImage) : image));
  const warnings: Warning[] = [];
  const first = outcome.failures[0];
  if (first !== undefined) {
    log.warn({ event: 'result_not_mirrored', failed: outcome.failures.length, of: urlImages.length, reason: first.reason }, 'result images could not be mirrored; the upstream URLs are kept');
    warnings.push({
      code: 'result_not_mirrored',
      param: 'result_urls',
      message: `${outcome.failures.length} of ${urlImages.length} result images could not be copied to the bridge's storage (first: ${first.reason.slice(0, 200)}); their URLs are the upstream's and may expire.`,
    });
  }
  if (outcome.storedUrls.length > 0) log.info({ event: 'results_mirrored', count: outcome.storedUrls.length }, 'result images mirrored into the blob store');
  return { state: { ...state, images }, storedUrls: outcome.storedUrls, warnings };
}
