import { LineCounter, parseAllDocuments, visit, type Scalar } from 'yaml';
import { GociError } from '../common/errors.js';

/** `goci://` before a main package (an import path, or a `./`-relative directory), as ko's `ko://`. */
export const REFERENCE_SCHEME = 'goci://';

/** One `goci://` value in a YAML text, where it is written and how it is quoted. */
export interface FoundReference {
  /** What follows the scheme: `./cmd/app` or `example.com/team/cmd/app`. */
  target: string;
  start: number;
  end: number;
  style: Scalar.Type | undefined;
}

/**
 * Every `goci://` value of a multi-document YAML text (Kubernetes manifests, a compose file), in
 * any field. Keys are not references. A text that is not YAML is refused naming its line.
 */
export function findReferences(text: string, file: string): FoundReference[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false, logLevel: 'error' });
  const found: FoundReference[] = [];
  for (const document of Array.isArray(documents) ? documents : [documents]) {
    const [problem] = document.errors;
    if (problem) {
      const { line, col } = lineCounter.linePos(problem.pos[0]);
      throw new GociError('BAD_ARGUMENT', `${file}:${line}:${col}: ${problem.message.split('\n')[0]}`, {
        hint: 'goci resolve reads YAML (Kubernetes manifests, compose files)',
      });
    }
    visit(document, {
      Scalar(key, node) {
        if (key === 'key' || typeof node.value !== 'string' || !node.value.startsWith(REFERENCE_SCHEME)) return;
        const [start, end] = node.range ?? [0, 0];
        found.push({ target: node.value.slice(REFERENCE_SCHEME.length), start, end, style: node.type });
      },
    });
  }
  return found;
}

/**
 * The text with each reference replaced by its image reference, every other byte (comments,
 * indentation, quoting, other documents) as it was. A quoted value stays quoted the same way.
 */
export function replaceReferences(text: string, found: FoundReference[], images: ReadonlyMap<string, string>): string {
  let result = '';
  let at = 0;
  for (const reference of [...found].sort((a, b) => a.start - b.start)) {
    const image = images.get(reference.target);
    if (image === undefined) throw new Error(`replaceReferences: no image for ${reference.target}`);
    result += text.slice(at, reference.start) + quoted(image, reference.style);
    at = reference.end;
  }
  return result + text.slice(at);
}

/** An image reference (`registry/path@sha256:…`: no spaces, no quotes) written in the style of the value it replaces. */
function quoted(image: string, style: Scalar.Type | undefined): string {
  if (style === 'QUOTE_SINGLE') return `'${image}'`;
  if (style === 'PLAIN') return image;
  return JSON.stringify(image);
}
