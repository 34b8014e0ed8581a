import { join } from 'node:path';
import { helloLayout } from './layout-fixture.js';
import { startProxy, type RegistryProxy } from './proxy.js';
import { startRegistry, type RegistryHarness } from './registry.js';
import { removeDirectory, temporaryDirectory } from './workspace.js';

/**
 * A docker-registry behind the fault proxy, and the hello example's layout (tag 1.2.3) to push
 * to it: what the registry hardening tests share. `env` pins SOURCE_DATE_EPOCH, gives the run
 * its own cache and no Docker credentials.
 */
export interface HelloRegistry {
  registry: RegistryHarness;
  proxy: RegistryProxy;
  work: string;
  layout: string;
  repo: string;
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export async function startHelloRegistry(prefix: string): Promise<HelloRegistry> {
  const work = await temporaryDirectory(prefix);
  const env = {
    ...process.env,
    SOURCE_DATE_EPOCH: '1714564800',
    GOCI_CACHE_DIR: join(work, 'cache'),
    DOCKER_CONFIG: join(work, 'none'),
  };
  let registry: RegistryHarness | undefined;
  let proxy: RegistryProxy | undefined;
  let repo: string | undefined;
  const stop = async (): Promise<void> => {
    await proxy?.stop();
    await registry?.stop();
    await Promise.all([work, ...(repo ? [repo] : [])].map(removeDirectory));
  };
  try {
    registry = await startRegistry();
    proxy = await startProxy(registry.url);
    const built = await helloLayout(work, env);
    repo = built.repo;
    return { registry, proxy, work, layout: built.layout, repo, env, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
