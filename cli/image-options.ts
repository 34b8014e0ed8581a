import { Option, type Command } from 'commander';
import type { ImageSettings } from '../pipeline/image-settings.js';
import { collect } from './collect.js';

/** Flags of `goci build` that shape the image and name its outputs. */
export type ImageFlags = ImageSettings;

/** The image options; `--push REPOSITORY` only where one repository is named (goci build, not goci publish). */
export function addImageOptions(command: Command, options: { push: boolean } = { push: true }): Command {
  if (options.push)
    command.option('--push <repository>', 'push the multi-arch image to this repository (e.g. ghcr.io/acme/api)');
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
    .option(
      '--release',
      'refuse to build unless the version is a tag of a clean tree (no -dev, no uncommitted changes)',
    )
    .option('--image-refs <file>', 'write the pushed repository@digest of each image to this file, one per line')
    .option('--sign <keyfile>', 'sign each pushed image as goci sign --key does (PEM EC P-256 private key)')
    .option(
      '--provenance',
      "attach a SLSA v1 provenance statement to each platform image (DSSE, signed with --sign's key)",
    );
}
