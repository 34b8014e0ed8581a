import { Option, type Command } from 'commander';
import { GociError } from '../common/errors.js';
import { checkAbsolute, checkLabelKey, readPorts } from '../spec/image.js';
import { isValidTag } from '../registry/reference.js';
import { releaseTags, versionTag } from '../registry/tags.js';
import type { ImageSpec } from '../spec/schema.js';
import { collect } from './collect.js';

/** Flags of `goci build` that shape the image; each overrides its goci.yaml `image:` field. */
export interface ImageFlags {
  base?: string;
  format: 'oci' | 'docker';
  ociLayout?: string;
  tarball?: string;
  load?: boolean;
  loadPlatform?: string;
  tag?: string[];
  repository?: string;
  label?: string[];
  annotation?: string[];
  env?: string[];
  user?: string;
  workdir?: string;
  port?: string[];
  arg?: string[];
  entrypoint?: string;
  push?: string;
  tags?: string;
  insecureRegistry?: string[];
  imageRefs?: string;
  sbom: 'spdx' | 'cyclonedx' | 'none';
}

export function addImageOptions(command: Command): Command {
  return command
    .option('--base <name>', 'base image: static (default, runs as 65532), static:root, scratch')
    .addOption(new Option('--format <format>', 'manifest media types').choices(['oci', 'docker']).default('oci'))
    .option('--oci-layout <dir>', 'OCI layout to write (default: <dist>/oci)')
    .option('--tarball <file>', 'also write one tar that docker load, skopeo and umoci read')
    .option('--load', 'load the image into the local Docker daemon')
    .option(
      '--load-platform <platform>',
      "the platform --load and --tarball's docker manifest use (default: this machine's)",
    )
    .option('-t, --tag <tag>', 'tag to record (repeatable; default: the version)', collect)
    .option('--repository <name>', 'repository name for tags (default: image.repository, else the entrypoint binary)')
    .option('--label <key=value>', 'image label (repeatable)', collect)
    .option('--annotation <key=value>', 'manifest and index annotation (repeatable)', collect)
    .option('--env <NAME=value>', 'environment variable (repeatable)', collect)
    .option('--user <uid[:gid]>', 'user the container runs as')
    .option('--workdir <dir>', 'working directory')
    .option('--port <port>', 'exposed port, e.g. 8080 or 53/udp (repeatable)', collect)
    .option('--arg <arg>', 'default argument (Cmd) after the entrypoint (repeatable)', collect)
    .option('--entrypoint <binary>', 'which binary is the entrypoint')
    .option('--push <repository>', 'push the multi-arch image to this repository (e.g. ghcr.io/acme/api)')
    .option(
      '--tags <list>',
      "comma-separated tags, instead of the version's (1.2.3 → 1.2.3, 1.2, 1, latest when pushing)",
    )
    .option(
      '--insecure-registry <host>',
      'allow plain HTTP to this registry (loopback registries always may) (repeatable)',
      collect,
    )
    .addOption(
      new Option('--sbom <format>', 'SBOM attached to each platform image (and stored in the OCI layout)')
        .choices(['spdx', 'cyclonedx', 'none'])
        .default('spdx'),
    )
    .option('--image-refs <file>', 'write the pushed repository@digest of each image to this file, one per line');
}

function keyValues(
  flag: string,
  items: string[] | undefined,
  checkKey: (key: string) => string,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const item of items ?? []) {
    const equals = item.indexOf('=');
    if (equals <= 0) throw new GociError('BAD_ARGUMENT', `${flag} ${item}: expected key=value`);
    result[checkKey(item.slice(0, equals))] = item.slice(equals + 1);
  }
  return result;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The spec's image settings with every given flag applied on top. */
export function applyImageFlags(image: ImageSpec, flags: ImageFlags): ImageSpec {
  const asFlagError = <T>(run: () => T): T => {
    try {
      return run();
    } catch (error) {
      if (error instanceof GociError) throw new GociError('BAD_ARGUMENT', error.message, { hint: error.hint });
      throw error;
    }
  };
  return asFlagError(() => ({
    ...image,
    base: flags.base ?? image.base,
    repository: flags.repository ?? image.repository,
    entrypoint: flags.entrypoint ?? image.entrypoint,
    args: flags.arg ?? image.args,
    env: {
      ...image.env,
      ...keyValues('--env', flags.env, (name) => {
        if (!ENV_NAME.test(name)) throw new GociError('BAD_ARGUMENT', `--env ${name}: not a valid variable name`);
        return name;
      }),
    },
    workdir: flags.workdir === undefined ? image.workdir : checkAbsolute('--workdir', flags.workdir),
    user: flags.user ?? image.user,
    ports: flags.port ? readPorts('--port', flags.port) : image.ports,
    labels: { ...image.labels, ...keyValues('--label', flags.label, (key) => checkLabelKey('--label', key)) },
    annotations: {
      ...image.annotations,
      ...keyValues('--annotation', flags.annotation, (key) => checkLabelKey('--annotation', key)),
    },
  }));
}

/**
 * The tags to record: --tag/--tags when given; else, when pushing, the version's release set
 * (1.2.3 → 1.2.3, 1.2, 1, latest) or the tag written in --push; else the version alone.
 * Docker's tag grammar has no '+', so semver build metadata becomes '-'.
 */
export function tagsFor(version: string, flags: ImageFlags, pushTag?: string): string[] {
  const explicit = [
    ...(flags.tag ?? []),
    ...(flags.tags
      ?.split(',')
      .map((tag) => tag.trim())
      .filter(Boolean) ?? []),
  ];
  const tags =
    explicit.length > 0 ? explicit : pushTag ? [pushTag] : flags.push ? releaseTags(version) : [versionTag(version)];
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      throw new GociError(
        'BAD_ARGUMENT',
        `--tag ${tag}: not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')`,
      );
    }
  }
  return tags;
}
