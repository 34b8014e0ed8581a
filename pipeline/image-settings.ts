import { GociError } from '../common/errors.js';
import { TAG_RULE, isValidTag } from '../registry/reference.js';
import { releaseTags, versionTag } from '../registry/tags.js';
import { checkAbsolute, checkLabelKey, readPorts } from '../spec/image.js';
import type { ImageSpec } from '../spec/schema.js';
import { ENV_NAME } from '../spec/definition.js';

/**
 * What shapes an image and names its outputs, as `goci build`'s flags give them; each image field
 * overrides its goci.yaml `image:` field.
 */
export interface ImageSettings {
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
  /** --sign KEYFILE: sign what is pushed, as goci sign does. */
  sign?: string;
  /** --provenance: a SLSA v1 provenance statement per platform image, as a referrer. */
  provenance?: boolean;
  release?: boolean;
  sbom: 'spdx' | 'cyclonedx' | 'none';
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

/** The spec's image settings with every given flag applied on top. */
export function applyImageFlags(image: ImageSpec, flags: ImageSettings): ImageSpec {
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
 * The tags to record: --tag/--tags when given; else the tag written in --push; else the image's
 * own tags from goci.yaml; else, when pushing, the version's release set (1.2.3 → 1.2.3, 1.2, 1,
 * latest); else the version alone. Docker's tag grammar has no '+', so semver build metadata becomes '-'.
 */
export function tagsFor(
  version: string,
  flags: ImageSettings & { repoPrefix?: string | undefined },
  pushTag?: string,
  imageTags?: string[],
): string[] {
  const explicit = [
    ...(flags.tag ?? []),
    ...(flags.tags
      ?.split(',')
      .map((tag) => tag.trim())
      .filter(Boolean) ?? []),
  ];
  const pushing = flags.push !== undefined || flags.repoPrefix !== undefined;
  const tags =
    explicit.length > 0
      ? explicit
      : pushTag
        ? [pushTag]
        : (imageTags ?? (pushing ? releaseTags(version) : [versionTag(version)]));
  return checkedTags(tags);
}

/** `tags` when each is a valid tag, else a BAD_ARGUMENT naming the first that is not. */
export function checkedTags(tags: string[]): string[] {
  for (const tag of tags) {
    if (!isValidTag(tag)) {
      throw new GociError('BAD_ARGUMENT', `--tag ${tag}: not a valid tag (${TAG_RULE})`);
    }
  }
  return tags;
}
