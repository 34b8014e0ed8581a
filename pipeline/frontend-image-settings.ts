import { join } from 'node:path';
import type { HostImageOutputs } from './host-image-outputs.js';

/** What `goci frontend-image` is asked to make, and where it goes. */
export interface FrontendImageSettings extends HostImageOutputs {
  base: string;
  bundle?: string;
}

export const DEFAULT_FRONTEND_REPOSITORY = 'goci-frontend';
export const DEFAULT_FRONTEND_LAYOUT = join('dist', 'frontend-oci');
