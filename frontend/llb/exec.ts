import { create } from '@bufbuild/protobuf';
import { CacheSharingOpt, MountType, NetMode, OpSchema, type Mount } from '../gen/ops_pb.js';
import type { Platform } from '../../oci/platform.js';
import { pbPlatform } from './sources.js';
import { inputOf, vertex, type Output, type Vertex } from './vertex.js';

export type ExecMount =
  /** Files from another output; `output: true` makes the mount's final state an output of the exec. */
  | { kind: 'bind'; dest: string; source: Output | undefined; selector?: string; readonly?: boolean; output?: boolean }
  /** A cache directory kept by BuildKit between builds, shared by id (Go's build and module caches). */
  | { kind: 'cache'; dest: string; id: string; sharing?: 'shared' | 'private' | 'locked' };

export interface ExecOptions {
  root: Output;
  args: string[];
  env: string[];
  cwd: string;
  user?: string;
  mounts: ExecMount[];
  /** NONE needs no bridge: dockerd here runs with --bridge=none. */
  network: 'none' | 'host' | 'sandbox';
  platform: Platform;
  name: string;
}

export interface ExecResult {
  root: Output;
  /** Outputs of the mounts marked `output`, by destination. */
  mounts: Record<string, Output>;
}

const SHARING = {
  shared: CacheSharingOpt.SHARED,
  private: CacheSharingOpt.PRIVATE,
  locked: CacheSharingOpt.LOCKED,
} as const;
const NETWORK = { none: NetMode.NONE, host: NetMode.HOST, sandbox: NetMode.UNSET } as const;

/**
 * A process run in `root` with mounts. Output 0 is the root filesystem after the run; each
 * mount marked `output` gets the next index. Inputs are numbered in the order first used.
 */
export function exec(options: ExecOptions): ExecResult {
  const inputs: Output[] = [];
  const inputIndex = (output: Output): bigint => {
    let index = inputs.findIndex(
      (known) => known.vertex.digest === output.vertex.digest && known.index === output.index,
    );
    if (index < 0) index = inputs.push(output) - 1;
    return BigInt(index);
  };
  let nextOutput = 0n;
  const mounts: Mount[] = [
    {
      input: inputIndex(options.root),
      dest: '/',
      output: nextOutput++,
      selector: '',
      readonly: false,
      mountType: MountType.BIND,
    } as Mount,
  ];
  const outputs: string[] = [];
  const caps = ['exec.meta.base', 'exec.mount.bind', 'platform'];
  for (const mount of options.mounts) {
    if (mount.kind === 'cache') {
      caps.push('exec.mount.cache', 'exec.mount.cache.sharing');
      mounts.push({
        input: -1n,
        dest: mount.dest,
        output: -1n,
        selector: '',
        readonly: false,
        mountType: MountType.CACHE,
        cacheOpt: { ID: mount.id, sharing: SHARING[mount.sharing ?? 'shared'] },
      } as Mount);
      continue;
    }
    if (mount.selector) caps.push('exec.mount.selector');
    const output = mount.output ? nextOutput++ : -1n;
    if (mount.output) outputs.push(mount.dest);
    mounts.push({
      input: mount.source ? inputIndex(mount.source) : -1n,
      dest: mount.dest,
      output,
      selector: mount.selector ?? '',
      readonly: mount.readonly ?? false,
      mountType: MountType.BIND,
    } as Mount);
  }
  if (options.network !== 'sandbox') caps.push('exec.meta.network');
  const op = create(OpSchema, {
    inputs: inputs.map(inputOf),
    op: {
      case: 'exec',
      value: {
        meta: { args: options.args, env: options.env, cwd: options.cwd, user: options.user ?? '' },
        mounts,
        network: NETWORK[options.network],
      },
    },
    platform: pbPlatform(options.platform),
  });
  const node: Vertex = vertex(
    op,
    inputs.map((input) => input.vertex),
    caps,
    { 'llb.customname': options.name },
  );
  return {
    root: { vertex: node, index: 0 },
    mounts: Object.fromEntries(outputs.map((dest, position) => [dest, { vertex: node, index: position + 1 }])),
  };
}
