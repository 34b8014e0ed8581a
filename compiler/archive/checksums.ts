import { GociError } from '../../common/errors.js';

export interface ChecksumFile {
  /** The name as it appears in checksums.txt, relative to the directory the file is checked in. */
  name: string;
  /** Lowercase hex SHA-256. */
  sha256: string;
}

/**
 * Renders checksums.txt exactly as `sha256sum <names...>` prints it in text mode: one
 * "<64 hex>  <name>\n" line per file, sorted by name in byte order, so `sha256sum -c
 * checksums.txt` verifies it. Names that sha256sum would escape (backslash, newline, carriage
 * return) are rejected rather than escaped, as are duplicates; an empty list renders as ''.
 */
export function renderChecksums(files: readonly ChecksumFile[]): string {
  const rows = files.map((file) => {
    const name = file.name;
    if (typeof name !== 'string' || name === '' || /[\\\n\r\0]/.test(name)) {
      throw new GociError(
        'BAD_ARGUMENT',
        `checksum file name ${JSON.stringify(name)} cannot be written to checksums.txt`,
        {
          hint: 'use a plain file name without backslashes or line breaks',
        },
      );
    }
    if (typeof file.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(file.sha256)) {
      throw new GociError(
        'BAD_ARGUMENT',
        `checksum for ${name} is ${JSON.stringify(file.sha256)}, not 64 lowercase hex digits`,
      );
    }
    return { key: Buffer.from(name, 'utf8'), line: `${file.sha256}  ${name}\n` };
  });
  rows.sort((a, b) => Buffer.compare(a.key, b.key));
  for (let i = 1; i < rows.length; i++) {
    if (rows[i - 1]!.key.equals(rows[i]!.key)) {
      throw new GociError('BAD_ARGUMENT', `${rows[i]!.key.toString('utf8')} appears more than once in checksums.txt`);
    }
  }
  return rows.map((row) => row.line).join('');
}
