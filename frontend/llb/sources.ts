import { create } from '@bufbuild/protobuf';
import { OpSchema, PlatformSchema, type Platform as PbPlatform } from '../gen/ops_pb.js';
import type { Platform } from '../../oci/platform.js';
import { formatReference, parseReference } from '../../registry/reference.js';
import { vertex, type Output } from './vertex.js';

export function pbPlatform(platform: Platform): PbPlatform {
  return create(PlatformSchema, { Architecture: platform.arch, OS: platform.os, Variant: platform.variant ?? '' });
}

function sorted(attrs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** An image from a registry (or the daemon's store), for one platform. */
export function imageSource(reference: string, platform: Platform): Output {
  // BuildKit wants the normalised name (docker.io/library/golang:1.23), as its own client sends it.
  const identifier = `docker-image://${formatReference(parseReference(reference))}`;
  const op = create(OpSchema, {
    op: { case: 'source', value: { identifier, attrs: {} } },
    platform: pbPlatform(platform),
  });
  return {
    vertex: vertex(op, [], ['source.image', 'platform'], { 'llb.customname': `[goci] ${reference}` }),
    index: 0,
  };
}

export interface LocalOptions {
  sessionId: string;
  sharedKeyHint?: string;
  excludePatterns?: string[];
  includePatterns?: string[];
}

/** Files the client sends: the build context or the directory holding goci.yaml. */
export function localSource(name: string, options: LocalOptions): Output {
  const attrs: Record<string, string> = { 'local.session': options.sessionId };
  const caps = ['source.local', 'source.local.sessionid'];
  if (options.sharedKeyHint) {
    attrs['local.sharedkeyhint'] = options.sharedKeyHint;
    caps.push('source.local.sharedkeyhint');
  }
  if (options.excludePatterns && options.excludePatterns.length > 0) {
    attrs['local.excludepatterns'] = JSON.stringify(options.excludePatterns);
    caps.push('source.local.excludepatterns');
  }
  if (options.includePatterns && options.includePatterns.length > 0) {
    attrs['local.includepattern'] = JSON.stringify(options.includePatterns);
    caps.push('source.local.includepatterns');
  }
  const op = create(OpSchema, {
    op: { case: 'source', value: { identifier: `local://${name}`, attrs: sorted(attrs) } },
  });
  return { vertex: vertex(op, [], caps, { 'llb.customname': `[goci] local ${name}` }), index: 0 };
}
