/**
 * Every upstream adapter the bridge knows: ONE line per adapter (see README "Adding an adapter").
 * The composition root registers every class exported here, in this order, under the ADAPTERS token.
 */
export { HubAdapter } from './hub/hub-adapter';
export { FalAdapter } from './fal/fal-adapter';
export { ExampleAdapter } from './example/example-adapter';
export { GeminiAdapter } from './gemini/gemini-adapter';
export { ReplicateAdapter } from './replicate/replicate-adapter';
export { OpenAIAdapter } from './openai/openai-adapter';
