/**
 * goci as a library: `import { build } from 'goci'`. The same stages as the CLI (plan, compile,
 * plan the image, assemble, sinks) with typed options and results; failures are thrown as
 * GociError, never a process exit.
 */
export { build } from './build.js';
export type { BuildOptions, BuildResult } from './build-options.js';
export type { BuiltImage } from './built-image.js';
export type { ProgressEvent } from './progress.js';
export type { Pushed } from '../sinks/sink.js';
export { GociError, isGociError, type GociErrorCode } from '../common/errors.js';
