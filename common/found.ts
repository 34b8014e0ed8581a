/**
 * What a `.find()` must have found: `undefined` means an invariant of goci broke, so it throws a
 * plain Error (reported as an internal error, exit 70) naming what was looked for, instead of
 * letting a `!` turn it into a TypeError further on.
 */
export function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is missing`);
  return value;
}
