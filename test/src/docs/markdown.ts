/** Small readers for the parts of Markdown that the docs tests check. */

export interface CodeBlock {
  lang: string;
  code: string;
}

/** Fenced code blocks (```lang ... ```). */
export function codeBlocks(markdown: string): CodeBlock[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

/** Rows of the first table between `<!-- name:start -->` and `<!-- name:end -->`, as cell texts. */
export function markedTable(markdown: string, name: string): string[][] {
  const start = markdown.indexOf(`<!-- ${name}:start -->`);
  const end = markdown.indexOf(`<!-- ${name}:end -->`);
  if (start < 0 || end < start) throw new Error(`no ${name} markers`);
  return markdown
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1) // header
    .map((line) => line.slice(1, -1).split('|').map((cell) => cell.trim()));
}

/** The first `code` span of a cell, or undefined. */
export const firstCode = (cell: string | undefined): string | undefined => /`([^`]*)`/.exec(cell ?? '')?.[1];

/** Relative link targets `[text](target)` (no URLs, no pure anchors). */
export function localLinks(markdown: string): string[] {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, '');
  return [...withoutCode.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^[a-z]+:/i.test(t) && !t.startsWith('#'));
}

/** GitHub's anchor for a heading. */
export function headingAnchors(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/^```[\s\S]*?^```$/gm, '');
  return new Set(
    [...withoutCode.matchAll(/^#+ (.*)$/gm)].map((m) =>
      m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'),
    ),
  );
}
