/**
 * goci's own version: `goci --version` prints it and SBOMs name it as their creating tool.
 * package.json holds the same text (a test keeps the two equal).
 */
export const GOCI_VERSION = '0.1.0';
