import type { Platform } from '../oci/platform.js';
import { ociPlatform } from '../oci/platform.js';
import type { RegistryClients } from '../registry/clients.js';
import { dockerDaemonSink } from '../sinks/docker-daemon.js';
import { layoutSink } from '../sinks/oci-layout.js';
import { registrySink } from '../sinks/registry.js';
import type { Sink } from '../sinks/sink.js';
import type { StagedOutputs } from '../sinks/staged-outputs.js';
import { tarballSink } from '../sinks/tarball.js';
import { tee } from '../sinks/tee.js';
import type { PreparedImage, RunSettings } from './prepare-image.js';
import type { Progress } from './progress.js';

export interface ImageSinkRequest {
  prepared: PreparedImage;
  settings: RunSettings;
  outputs: StagedOutputs;
  clients: RegistryClients;
  progress: Progress;
  /** `<prefix>:<tag>` names the image in the OCI layout, when set. */
  layoutRefPrefix: string | undefined;
  /** The repository the docker archive names. */
  repository: string;
  loadPlatform: Platform;
  /** The push's registry sink when it was made already (it took layers early); else made here. */
  registry?: Sink | undefined;
}

/** The sinks one image goes to, in the order they are written: layout, registry, tarball, docker daemon. */
export function imageSinks(request: ImageSinkRequest): Sink {
  const { prepared, settings, outputs, progress } = request;
  const archive = { repository: request.repository, platform: ociPlatform(request.loadPlatform) };
  const sinks: Sink[] = [];
  if (prepared.layoutDir) sinks.push(layoutSink(outputs, request.layoutRefPrefix));
  if (request.registry) sinks.push(request.registry);
  else if (prepared.push) {
    const client = request.clients.for(prepared.push.registry);
    const reportPushed = (where: string): void => progress.report({ kind: 'sink-done', sink: 'registry', where });
    sinks.push(registrySink(client, prepared.push, reportPushed));
  }
  if (settings.tarball) sinks.push(tarballSink(outputs, settings.tarball, archive));
  if (settings.load) {
    const reportLoaded = (tags: string[]): void =>
      progress.report({ kind: 'sink-done', sink: 'docker daemon', where: tags.join(', ') });
    sinks.push(dockerDaemonSink(archive, reportLoaded));
  }
  return tee(...sinks);
}
