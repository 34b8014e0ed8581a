import { RegistryClient, type UploadHook } from './client.js';
import type { WaitHook } from './http.js';

export interface RegistryAccess {
  insecureRegistries: string[];
  verbose: ((line: string) => void) | undefined;
  /** Told before every wait between tries to any of the registries. */
  onWait?: WaitHook;
  /** Told after each blob any of them took. */
  onUploaded?: UploadHook;
}

/** One client per registry host for the whole run, so tokens and connection limits are shared. */
export class RegistryClients {
  private readonly clients = new Map<string, RegistryClient>();

  constructor(private readonly access: RegistryAccess) {}

  for(registry: string): RegistryClient {
    let client = this.clients.get(registry);
    if (!client) {
      client = new RegistryClient({
        registry,
        insecureRegistries: this.access.insecureRegistries,
        ...(this.access.verbose ? { verbose: this.access.verbose } : {}),
        ...(this.access.onWait ? { onWait: this.access.onWait } : {}),
        ...(this.access.onUploaded ? { onUploaded: this.access.onUploaded } : {}),
      });
      this.clients.set(registry, client);
    }
    return client;
  }
}
