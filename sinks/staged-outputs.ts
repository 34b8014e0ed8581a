import { ignoreIfCreated } from '../common/output-root.js';
import { uninterrupted } from '../common/interrupt.js';
import { FilePublication, type PublishedFile } from '../common/publish.js';
import { openLayoutStage, publishLayout, type LayoutStage, type LayoutUpdate } from './layout-publish.js';
import type { ContentStore } from '../oci/content-store.js';
import { layoutStore } from '../oci/layout-store.js';

/**
 * A run's outputs that land on disk together: every blob is written into one staged layout (a
 * hidden sibling of the OCI layout, or $TMPDIR when only pushing), the layout sink records its
 * tags and referrers, the tarball sink and the compiled binaries add finished files; publish()
 * then moves all of it into place as one step, under the layout's lock. A run that fails or is
 * stopped before that leaves dist and the layout as they were.
 */
export interface StagedOutputs {
  /** The staged layout, the content store the run's images are assembled into. */
  store: ContentStore;
  /** The OCI layout to publish into; undefined when only pushing. */
  layoutDir: string | undefined;
  update: LayoutUpdate;
  files: PublishedFile[];
  publish(): Promise<void>;
  dispose(): Promise<void>;
}

export async function openStagedOutputs(
  layoutDir: string | undefined,
  files: PublishedFile[],
  distDir?: string,
): Promise<StagedOutputs> {
  // Before the stage: it is made beside the layout, in dist.
  const ignore = await ignoreIfCreated(distDir);
  const stage: LayoutStage = await openLayoutStage(layoutDir);
  const update: LayoutUpdate = { tags: [], attachments: [] };
  const outputs: StagedOutputs = {
    store: layoutStore(stage.dir),
    layoutDir,
    update,
    files,
    async publish() {
      const publication = new FilePublication(outputs.files);
      await uninterrupted(async () =>
        layoutDir ? publishLayout(stage.dir, layoutDir, update, publication) : publication.publish(),
      );
      await ignore();
    },
    dispose: () => stage.dispose(),
  };
  return outputs;
}
