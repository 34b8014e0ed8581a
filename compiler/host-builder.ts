import { join } from 'node:path';
import { checkWritable } from '../common/writable.js';
import type { Builder } from './builder.js';
import { compileStaged, type CompileOptions } from './compile.js';
import type { TargetBuild } from './run.js';

/** The Builder that runs `go build` on this machine, every target in parallel, into a scratch directory. */
export function hostBuilder(options: CompileOptions): Builder {
  return {
    async build(plan, onBinary) {
      // A read-only or blocked --dist is found before anything compiles.
      await checkWritable(join(options.distDir, 'bin'));
      const onBuilt = (build: TargetBuild): void => {
        options.onBuilt?.(build);
        onBinary?.(build.binary);
      };
      return compileStaged(plan, { ...options, onBuilt });
    },
  };
}
