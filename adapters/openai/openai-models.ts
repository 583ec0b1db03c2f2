/**
 * OpenAI Images API model ids, limits and capabilities, as data.
 *
 * Sources (public, read for this adapter):
 * - OpenAI's API reference, "Create image" and "Create image edit" (platform.openai.com/docs/api-reference/images),
 *   as published in OpenAI's OpenAPI document (github.com/openai/openai-openapi, openapi.yaml, commit f85dbe2,
 *   `CreateImageRequest`, `CreateImageEditRequest`, `ImagesResponse`) and its generated Node SDK
 *   (github.com/openai/openai-node, src/resources/images.ts, commit 7b7d6ca):
 *   - model id `gpt-image-2` (and the snapshot `gpt-image-2-2026-04-21`);
 *   - `n` "between 1 and 10"; `quality` low / medium / high / auto; `output_format` png / jpeg / webp;
 *   - `size` for gpt-image-2: arbitrary `WIDTHxHEIGHT`, "width and height must both be divisible by 16", ratio
 *     "between 1:3 and 3:1", "the maximum supported resolution is 3840x2160" (resolutions above 2560x1440 are
 *     experimental);
 *   - edits: "you can provide up to 16 images", png / webp / jpg, each under 50MB;
 *   - GPT image models "always return base64-encoded images" (`data[].b64_json`); no seed parameter exists.
 * What no OpenAI page states is in OPENAI_ASSUMPTIONS below (and in docs/mapping.md, "Assumptions").
 */
import type { Assumption } from '../../src/adapter-kit/assumptions';
import type { AdapterCapabilities } from '../../src/adapter-kit/contract';
import type { Family } from '../../src/platform/catalog';

/** OpenAI model id per platform family (only gpt-image-2 is an OpenAI model). */
export const OPENAI_MODEL_IDS: Readonly<Partial<Record<Family, string>>> = { 'gpt-image-2': 'gpt-image-2' };

/** gpt-image-2 custom sizes: both edges divisible by this (OpenAI's size description). */
export const OPENAI_SIZE_MULTIPLE = 16;

/** Most images OpenAI's Images API generates in one call (`n`: "between 1 and 10"). */
export const OPENAI_MAX_N = 10;

/**
 * Images asked of one call. A task asking for more fans out over several calls made at once (the engine's
 * fan-out): each answer then holds at most two base64 images (a 3840x2160 PNG is up to ~33 MB as base64), so
 * one answer stays well below the response limit, and the calls run in parallel instead of one long call.
 * The cost: each call is charged its input tokens again (prompt and reference images).
 */
export const OPENAI_IMAGES_PER_CALL = 2;

/** Time one call may take: a high-quality 4K generation of two images takes minutes. */
export const OPENAI_CALL_TIMEOUT_MS = 5 * 60 * 1000;

/** Largest answer accepted from one call: two worst-case 4K PNGs as base64, with room to spare. */
export const OPENAI_MAX_RESPONSE_BYTES = 96 * 1024 * 1024;

/** Most reference images per edit ("You can provide up to 16 images"). */
export const OPENAI_MAX_REFERENCES = 16;

/**
 * What the openai adapter serves: gpt-image-2, both task types, the three formats, n 1-8 (the platform's range;
 * OpenAI takes up to 10 per call), fanned out two per call, up to 16 references. Every one of the platform's 48
 * sizes is within OpenAI's size rules once 1920x1080 / 1080x1920 are snapped to the 16-pixel grid (with a
 * warning), so no size is refused here.
 */
export const OPENAI_CAPABILITIES = {
  'gpt-image-2': {
    taskTypes: ['text2image', 'image2image'],
    formats: ['png', 'jpeg', 'webp'],
    maxImages: 8,
    imagesPerCall: OPENAI_IMAGES_PER_CALL,
    maxReferences: OPENAI_MAX_REFERENCES,
  },
} as const satisfies AdapterCapabilities;

/** The values above that no OpenAI page confirms, with their source. */
export const OPENAI_ASSUMPTIONS: readonly Assumption[] = [
  {
    what: 'gpt-image-2 smallest size on OpenAI',
    value: '655,360 pixels',
    source: "OpenAI's reference says a size must satisfy \"the model's current pixel and edge limits\" without giving the minimum; 655,360 is the figure third-party gpt-image-2 documentation repeats. The platform's smallest size (1024x768, 786,432 pixels) is above it either way",
  },
  {
    what: 'safety refusal of an OpenAI image request',
    value: 'HTTP 400, error.code moderation_blocked (type image_generation_user_error) or content_policy_violation',
    source: "OpenAI's API reference gives no body for a safety rejection; the shape is the one recorded in public bug reports of gpt-image calls (github.com/jeffstric/ZJT issue 480, github.com/ucx0204/CarrotMangaTranslator issue 122), kept in fixtures/openai/submit.moderation-blocked.json; content_policy_violation is the code of OpenAI's earlier image models",
  },
];
