/**
 * Whether an adapter can serve an intent, decided from its declared capabilities only.
 */
import type { ImageIntent } from '../intent/intent';
import type { AdapterCapabilities } from './contract';

/** Why an adapter cannot serve an intent, or undefined when it can. */
export function whyNotServed(capabilities: AdapterCapabilities, intent: ImageIntent): string | undefined {
  const support = capabilities[intent.family];
  if (!support) return `no upstream serves ${intent.family}`;
  if (!support.taskTypes.includes(intent.taskType)) return `${intent.taskType} is not served for ${intent.platformModel}`;
  const resolution = intent.geometry.kind === 'aspect' ? intent.geometry.resolution : undefined;
  if (resolution !== undefined && !(support.resolutions ?? []).includes(resolution)) {
    return `resolution ${resolution} is not served by any upstream today (served: ${(support.resolutions ?? []).join(', ') || 'none'})`;
  }
  if (!support.formats.includes(intent.format)) return `output_format ${intent.format} is not produced for ${intent.platformModel}`;
  if (intent.count > support.maxImages) return `at most ${support.maxImages} images per task are served for ${intent.platformModel}`;
  if (intent.references.length > support.maxReferences) return `at most ${support.maxReferences} reference images are served for ${intent.platformModel}`;
  return undefined;
}
