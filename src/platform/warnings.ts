/**
 * Every warning code the bridge raises: the platform task's `metadata.warnings[].code` takes exactly these.
 * A new code goes here first (the type then admits it), and in the "Warnings" table of docs/mapping.md (a test compares
 * the two).
 */
export const WARNING_CODES = [
  'duplicate_reference',
  'size_converted',
  'size_ignored',
  'quality_ignored',
  'legacy_field',
  'references_ignored',
  'size_adjusted',
  'parameter_ignored',
  'result_url_refused',
  'results_truncated',
  'partial_result',
  'result_not_mirrored',
] as const;

/** A warning code. */
export type WarningCode = (typeof WARNING_CODES)[number];
