/** Options with defaults: every key of `defaults`, taken from `options` where it is set there (`??` for each key). */
export function withDefaults<R extends object>(defaults: R, options: { readonly [K in keyof R]?: R[K] | undefined }): R {
  const out = { ...defaults };
  for (const key of Object.keys(defaults) as Array<keyof R>) {
    const value = options[key];
    if (value !== undefined && value !== null) out[key] = value as R[keyof R];
  }
  return out;
}
