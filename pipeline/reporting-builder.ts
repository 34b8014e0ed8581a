import { join } from 'node:path';
import type { Builder } from '../compiler/builder.js';
import { displayCommand } from '../compiler/command.js';
import type { CompileOptions } from '../compiler/compile.js';
import { hostBuilder } from '../compiler/host-builder.js';
import type { Plan } from '../compiler/plan.js';
import { formatPlatform } from '../compiler/platform.js';
import type { Progress } from './progress.js';

export interface CompileSettings {
  /** The dist directory, absolute: binaries land in `<dist>/bin`. */
  dist: string;
  /** Targets built at once; read when the build starts (a bad --jobs is found after planning). */
  jobs: () => number;
  cache: boolean;
}

function compileOptions(plan: Plan, settings: CompileSettings, progress: Progress): CompileOptions {
  const label = (target: Plan['targets'][number]): string => `${target.binary} ${formatPlatform(target.platform)}`;
  return {
    distDir: settings.dist,
    jobs: settings.jobs(),
    cache: settings.cache,
    onStart: (target) =>
      progress.report({
        kind: 'compile-start',
        target: label(target),
        command: displayCommand(target.command, join(settings.dist, 'bin', target.fileName), plan.toolchain.go),
      }),
    onBuilt: ({ binary, size, seconds, cached }) =>
      progress.report({ kind: 'compile-done', target: label(binary.target), size, seconds, cached }),
  };
}

/** The host's `go build`, each target's start and end reported to `progress`. */
export function reportingHostBuilder(settings: CompileSettings, progress: Progress): Builder {
  return { build: (plan, onBinary) => hostBuilder(compileOptions(plan, settings, progress)).build(plan, onBinary) };
}
