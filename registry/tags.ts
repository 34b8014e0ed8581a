import semver from 'semver';

/**
 * The tags a release version publishes: `1.2.3` → `1.2.3`, `1.2`, `1`, `latest`. A pre-release
 * or a version with build metadata gets only its own tag (`+` made `-`, as Docker tags allow
 * no `+`), so a release candidate never moves `latest` or `1`.
 */
export function releaseTags(version: string): string[] {
  const parsed = semver.parse(version);
  if (!parsed || parsed.prerelease.length > 0 || parsed.build.length > 0) return [versionTag(version)];
  // A version written with the tag's `v` (version.format: tag, describe) names its tags the same way.
  const v = version.startsWith('v') ? 'v' : '';
  return [`${v}${parsed.version}`, `${v}${parsed.major}.${parsed.minor}`, `${v}${parsed.major}`, 'latest'];
}

/** A version as a tag: `+` made `-`, as Docker tags allow no `+` (`1.2.3+meta` → `1.2.3-meta`). */
export function versionTag(version: string): string {
  return version.replace(/\+/g, '-');
}
