/**
 * The testing entry point, `image-task-bridge/testing`: shared jest suites for implementations of the bridge's
 * contracts. It imports `@jest/globals`, so only test code loads it; the main entry (`src/index.ts`) never does.
 */
export { adapterConformanceChecks, CONFORMANCE_CHECK_KINDS, runAdapterConformance } from './adapter-conformance';
export { goldenCasesFromFiles, goldenRequestView } from './golden-files';
export type { GoldenFormPart, GoldenRequestView, GoldenUpstreamFile } from './golden-files';
export type {
  AdapterConformanceOptions,
  ConformanceCheck,
  ConformanceCheckKind,
  ExpectedTask,
  FixtureCase,
  GoldenCase,
  MalformedFixtureCase,
  PollFixtureCase,
  RefusalCase,
  SubmitFixtureCase,
  WarningCase,
} from './adapter-conformance';
