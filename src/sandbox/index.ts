/**
 * The sandbox hub: a local simulator of the hub protocol (the protocol of adapters/hub/hub-api.ts) that returns real, small images,
 * and of Google's Gemini generateContent (a synchronous upstream, sandbox-gemini.ts).
 */
export { startSandboxHub, SANDBOX_MODES, SANDBOX_MODE_HEADER } from './sandbox-hub';
export type { SandboxHub, SandboxHubOptions, SandboxHubStats, SandboxMode, SandboxTiming } from './sandbox-hub';
export { SANDBOX_IMAGE_LONG_EDGE, SHARP_MISSING_MESSAGE, sandboxImageSize } from './sandbox-images';
export { SANDBOX_MODEL_IDS, SANDBOX_IMAGE_SIZE_PRESETS, SANDBOX_CUSTOM_SIZE, validateSandboxSubmit } from './sandbox-models';
export { SANDBOX_GEMINI_MODELS, validateSandboxGenerate } from './sandbox-gemini';
export type { SandboxGenerateJob, SandboxGenerateVerdict } from './sandbox-gemini';
