import semver from 'semver';
import { GociError } from '../common/errors.js';
import type { VersionFormat } from '../spec/schema.js';
import type { SourceState } from './git.js';
import { rfc3339 } from '../common/time.js';

/** Everything a build is stamped with; the inputs of `{{.Version}}`, `{{.Date}}` and friends. */
export interface Stamp {
  version: string;
  commit: string;
  shortCommit: string;
  /** Unix seconds every timestamp in the output derives from. */
  epoch: number;
  /** `epoch` as RFC 3339 UTC. */
  date: string;
  commitTimestamp: string;
  /** Uncommitted changes: what Go stamps as vcs.modified when it stamps VCS information. */
  modified: boolean;
  /** Where the source can be browsed (the git origin, credentials removed), if anywhere. */
  sourceUrl: string | undefined;
  /** Not a release: commits after the last tag or no tag at all, or a given version with a `-dev` part. */
  development: boolean;
}

const SHORT_COMMIT_LENGTH = 7;
/** What git describe --tags --always --dirty can print: a tag, -N-gHASH, a hash, -dirty. */
const DESCRIBED = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

/**
 * A version given by the user must be semver; a leading `v` is accepted, and dropped unless the
 * format keeps what the tag says.
 */
export function checkedVersion(text: string, where: string, format: VersionFormat = 'semver'): string {
  const trimmed = text.trim();
  // git describe without a tag is the short commit alone (1a2b3c4): a describe version is any tag-safe word.
  if (format === 'describe' && DESCRIBED.test(trimmed)) return trimmed;
  const version = semver.valid(trimmed);
  if (!version || !/^v?\d/.test(trimmed)) {
    throw new GociError('BAD_VERSION', `${where}: "${text}" is not a semantic version`, {
      hint: 'use MAJOR.MINOR.PATCH with optional -prerelease and +build parts, e.g. 1.2.3 or 1.3.0-rc.1',
    });
  }
  return format === 'semver' ? version : trimmed;
}

/**
 * The version git implies. An exact tag is the version; commits after it make the next
 * patch's pre-release (so it sorts after the tag and before the next release); no tag at all
 * is 0.0.0-dev. Build metadata carries the commit and a dirty mark. `describe` writes what git
 * describe would instead.
 */
export function deriveVersion(state: SourceState, format: VersionFormat = 'semver'): string {
  const short = state.commit?.slice(0, SHORT_COMMIT_LENGTH);
  if (format === 'describe' && (state.tag || short)) return describeVersion(state, short);
  const metadata = [short ? `g${short}` : undefined, state.dirty ? 'dirty' : undefined].filter(Boolean);
  if (!state.tag) return withMetadata('0.0.0-dev', metadata);
  const tagged = checkedVersion(state.tag, `git tag ${state.tag}`);
  const prefix = format === 'tag' && state.tag.startsWith('v') ? 'v' : '';
  const base = semver.parse(tagged)!;
  if (state.distance === 0) return prefix + withMetadata(`${base.version}`, state.dirty ? ['dirty'] : []);
  const next =
    base.prerelease.length > 0
      ? `${base.version}.dev.${state.distance}`
      : `${semver.inc(base.version, 'patch')}-dev.${state.distance}`;
  return prefix + withMetadata(next, metadata);
}

/** `git describe --tags --always --dirty`: the tag, `-N-gSHORT` after it, the short commit without one, `-dirty`. */
function describeVersion(state: SourceState, short: string | undefined): string {
  checkedVersion(state.tag ?? '0.0.0', `git tag ${state.tag}`);
  const described = !state.tag ? short! : state.distance === 0 ? state.tag : `${state.tag}-${state.distance}-g${short}`;
  return state.dirty ? `${described}-dirty` : described;
}

const FETCH_HINT = 'fetch the history and tags (git fetch --tags --unshallow; actions/checkout: fetch-depth: 0)';

/**
 * What is doubtful about a version derived from git, one line each: none when the version was
 * given, or when a tag names it exactly.
 */
export function versionWarnings(state: SourceState, version: string, given: boolean): string[] {
  if (given || state.commit === undefined) return [];
  if (!state.tag && state.shallow)
    return [`version ${version}: this shallow clone has no release tag (v1.2.3); ${FETCH_HINT}, or give --version`];
  if (!state.tag)
    return [`version ${version}: no release tag (v1.2.3) is reachable from HEAD; tag a release or give --version`];
  if (state.shallow && state.distance > 0)
    return [
      `version ${version}: counts ${state.distance} commits after ${state.tag} in a shallow clone only; ${FETCH_HINT}`,
    ];
  return [];
}

function withMetadata(version: string, metadata: (string | undefined)[]): string {
  return metadata.length > 0 ? `${version}+${metadata.join('.')}` : version;
}

/** SOURCE_DATE_EPOCH wins, then the commit time, then 0: never the clock, so rebuilds match. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv, state: SourceState): number {
  const raw = env.SOURCE_DATE_EPOCH;
  if (raw !== undefined && raw !== '') {
    if (!/^\d+$/.test(raw)) {
      throw new GociError('BAD_ARGUMENT', `SOURCE_DATE_EPOCH="${raw}" is not a whole number of seconds`, {
        hint: 'set it to a Unix time, e.g. $(git log -1 --format=%ct)',
      });
    }
    return Number(raw);
  }
  return state.commitTime ?? 0;
}

/** `versionWhere` names the version's origin in errors: the CLI's flag, or the frontend's build arg. */
export function makeStamp(
  state: SourceState,
  env: NodeJS.ProcessEnv,
  versionOverride: string | undefined,
  versionWhere = '--version',
  format: VersionFormat = 'semver',
): Stamp {
  const epoch = sourceDateEpoch(env, state);
  const commit = state.commit ?? '';
  const version =
    versionOverride === undefined
      ? deriveVersion(state, format)
      : checkedVersion(versionOverride, versionWhere, format);
  return {
    version,
    commit,
    shortCommit: commit.slice(0, SHORT_COMMIT_LENGTH),
    epoch,
    date: rfc3339(epoch),
    commitTimestamp: state.commitTime === undefined ? '' : String(state.commitTime),
    modified: state.dirty,
    sourceUrl: state.sourceUrl,
    development: versionOverride === undefined ? !state.tag || state.distance > 0 : hasDevPart(version),
  };
}

/** A `-dev` pre-release part (`1.2.4-dev.3`), as goci's own development versions have. */
function hasDevPart(version: string): boolean {
  const prerelease = semver.parse(version)?.prerelease ?? [];
  return prerelease.some((part) => String(part).startsWith('dev'));
}
