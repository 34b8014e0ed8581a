import { join } from 'node:path';
import { goci } from './goci.js';
import { exampleRepository } from './workspace.js';

/**
 * The hello example built by goci for linux/amd64, version 1.2.3, into `<work>/dist/oci`
 * (tag 1.2.3): something to push without compiling in every test. Returns the layout directory
 * and the example's checkout.
 */
export async function helloLayout(work: string, env: NodeJS.ProcessEnv): Promise<{ layout: string; repo: string }> {
  const repo = await exampleRepository('hello', 'layout-fixture');
  const dist = join(work, 'dist');
  const args = ['build', '.', '--platform', 'linux/amd64', '--version', '1.2.3', '--dist', dist, '--sbom', 'none'];
  const built = await goci([...args, '--progress', 'plain'], { cwd: repo, env });
  if (built.exitCode !== 0) throw new Error(`goci build failed: ${built.stderr}`);
  return { layout: join(dist, 'oci'), repo };
}
