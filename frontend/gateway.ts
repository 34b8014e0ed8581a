import {
  create,
  fromBinary,
  toBinary,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
import {
  PingRequestSchema,
  ReadDirRequestSchema,
  ReadDirResponseSchema,
  PongResponseSchema,
  ReadFileRequestSchema,
  ReadFileResponseSchema,
  ResolveImageConfigRequestSchema,
  ResolveImageConfigResponseSchema,
  ReturnRequestSchema,
  ReturnResponseSchema,
  SolveRequestSchema,
  SolveResponseSchema,
  StatFileRequestSchema,
  StatFileResponseSchema,
  type Result,
} from './gen/gateway_pb.js';
import type { Definition, Platform } from './gen/ops_pb.js';
import type { Stat } from './gen/stat_pb.js';

/** Moves request bytes to a gRPC method and answer bytes back (see frontend/grpc/client.ts). */
export interface UnaryTransport {
  unary(path: string, request: Uint8Array): Promise<Uint8Array>;
}

const SERVICE = '/moby.buildkit.v1.frontend.LLBBridge';

/** The part of an image config (as BuildKit resolves it) the frontend reads; the rest is not looked at. */
export interface ImageConfigDocument {
  config?: { Env?: string[] };
}

/** The calls a frontend makes back into BuildKit, typed. */
export class Gateway {
  constructor(private readonly transport: UnaryTransport) {}

  private async call<I extends DescMessage, O extends DescMessage>(
    method: string,
    input: I,
    request: MessageInitShape<I>,
    output: O,
  ): Promise<MessageShape<O>> {
    const answer = await this.transport.unary(`${SERVICE}/${method}`, toBinary(input, create(input, request)));
    return fromBinary(output, answer);
  }

  /** BuildKit's capabilities and workers. */
  async ping(): Promise<{ frontendCaps: Set<string>; llbCaps: Set<string>; platforms: Platform[] }> {
    const pong = await this.call('Ping', PingRequestSchema, {}, PongResponseSchema);
    const enabled = (caps: { ID: string; Enabled: boolean }[]): Set<string> =>
      new Set(caps.filter((cap) => cap.Enabled).map((cap) => cap.ID));
    return {
      frontendCaps: enabled(pong.FrontendAPICaps),
      llbCaps: enabled(pong.LLBCaps),
      platforms: pong.Workers.flatMap((worker) => worker.platforms),
    };
  }

  /** Solves a definition and returns the id of its result, for ReadFile and for the final Return. */
  async solve(definition: Definition): Promise<string> {
    const response = await this.call(
      'Solve',
      SolveRequestSchema,
      { Definition: definition, allowResultReturn: true, allowResultArrayRef: true },
      SolveResponseSchema,
    );
    const result = response.result?.result;
    if (result?.case === 'ref') return result.value.id;
    if (result?.case === 'refDeprecated') return result.value;
    return response.ref;
  }

  async readFile(ref: string, path: string): Promise<Uint8Array> {
    return (await this.call('ReadFile', ReadFileRequestSchema, { Ref: ref, FilePath: path }, ReadFileResponseSchema))
      .Data;
  }

  /** What is at `path` in a solved result (symlinks on the way resolved inside it, as BuildKit does). */
  async statFile(ref: string, path: string): Promise<Stat | undefined> {
    const response = await this.call(
      'StatFile',
      StatFileRequestSchema,
      { Ref: ref, Path: path },
      StatFileResponseSchema,
    );
    return response.stat;
  }

  /** The entries of the directory `path` in a solved result, by name. */
  async readDir(ref: string, path: string): Promise<Stat[]> {
    const response = await this.call(
      'ReadDir',
      ReadDirRequestSchema,
      { Ref: ref, DirPath: path },
      ReadDirResponseSchema,
    );
    return response.entries;
  }

  /** Whether `path` exists in a solved result. */
  async exists(ref: string, path: string): Promise<boolean> {
    try {
      await this.call('StatFile', StatFileRequestSchema, { Ref: ref, Path: path }, StatFileResponseSchema);
      return true;
    } catch {
      return false;
    }
  }

  async resolveImageConfig(
    reference: string,
    platform: Platform,
  ): Promise<{ digest: string; config: ImageConfigDocument; bytes: Uint8Array }> {
    const response = await this.call(
      'ResolveImageConfig',
      ResolveImageConfigRequestSchema,
      { Ref: reference, Platform: platform, LogName: `[goci] resolve ${reference}` },
      ResolveImageConfigResponseSchema,
    );
    return {
      digest: response.Digest,
      config: JSON.parse(new TextDecoder().decode(response.Config)) as ImageConfigDocument,
      bytes: response.Config,
    };
  }

  /** Hands the build result, or its error, back to BuildKit; the frontend exits only after this answers. */
  async return(result: Result | undefined, error?: { code: number; message: string }): Promise<void> {
    await this.call('Return', ReturnRequestSchema, result ? { result } : { error: error! }, ReturnResponseSchema);
  }
}
