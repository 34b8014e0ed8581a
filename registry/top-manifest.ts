import { GociError } from '../common/errors.js';
import { isReferrersTag } from '../oci/artifact.js';
import { MEDIA_TYPES } from '../oci/media-types.js';
import type { ManifestResponse, RegistryClient } from './client.js';
import { isRegistryFailure } from './http.js';
import type { ImageRef } from './reference.js';

/** Every manifest and index type goci reads; distribution 2.8 answers 404 for a type not asked for. */
export const MANIFEST_TYPES = [
  MEDIA_TYPES.oci.index,
  MEDIA_TYPES.oci.manifest,
  MEDIA_TYPES.docker.index,
  MEDIA_TYPES.docker.manifest,
];
/** How many tags a "not found" message lists before it says how many more there are. */
const LISTED_TAGS = 20;

/** How a reference that names nothing is reported: who gave it, and how an example is written. */
export interface ReferenceSource {
  /** Put before the message, e.g. `--base 127.0.0.1:5000/nope:1`. */
  subject?: string;
  /** Before the example reference in the hint: `docker://` for inspect, nothing for a base. */
  examplePrefix: string;
}

/**
 * The manifest or index a user's reference names (its digest, else its tag). When the registry
 * has none, the error is the user's to fix (NOT_FOUND, exit 2) and says how the reference was
 * read: the registry and repository, and the tags it does have.
 */
export async function topManifest(
  client: RegistryClient,
  ref: ImageRef,
  where: string,
  tag: string | undefined,
  accept: readonly string[] = MANIFEST_TYPES,
  source: ReferenceSource = { examplePrefix: 'docker://' },
): Promise<ManifestResponse> {
  const reference = ref.digest ?? tag!;
  try {
    return await client.getManifest(ref.repository, reference, accept);
  } catch (error) {
    if (!isRegistryFailure(error, 'not-found')) throw error;
    const subject = source.subject ? `${source.subject}: ` : '';
    // The registry's order is its own (distribution 2.8's varies); sorted, the message is stable.
    const tags = (await client.listTags(ref.repository)).filter((name) => !isReferrersTag(name)).sort();
    if (tags.length === 0) {
      const hint = `check the registry and the repository name: ${ref.registry} lists no tags for ${ref.repository}`;
      throw new GociError('NOT_FOUND', `${subject}repository ${where} does not exist`, { hint, cause: error });
    }
    const listed =
      tags.length > LISTED_TAGS
        ? `${tags.slice(0, LISTED_TAGS).join(', ')} and ${tags.length - LISTED_TAGS} more`
        : tags.join(', ');
    const example = `${source.examplePrefix}${where}:${tags.includes('latest') ? 'latest' : tags[0]}`;
    if (ref.digest !== undefined) {
      const hint = `check the digest, or name a tag, such as ${example}`;
      const message = `${subject}manifest ${ref.digest} is not in ${where} (its tags: ${listed})`;
      throw new GociError('NOT_FOUND', message, { hint, cause: error });
    }
    const hint = `name one of its tags, such as ${example}`;
    const message = `${subject}tag "${reference}" is not in ${where} (its tags: ${listed})`;
    throw new GociError('NOT_FOUND', message, { hint, cause: error });
  }
}
