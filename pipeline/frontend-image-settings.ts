import { join } from 'node:path';

/** What `goci frontend-image` is asked to make, and where it goes. */
export interface FrontendImageSettings {
  base: string;
  bundle?: string;
  ociLayout?: string;
  tarball?: string;
  load?: boolean;
  push?: string;
  tag?: string[];
  repository?: string;
}

export const DEFAULT_FRONTEND_REPOSITORY = 'goci-frontend';
export const DEFAULT_FRONTEND_LAYOUT = join('dist', 'frontend-oci');
