/**
 * The fenced code blocks of README.md and docs/*.md, and what test/docs/code-blocks.test.ts does
 * with each (the convention is in CONTRIBUTING.md, "Docs that run"). The info string after the
 * opening fence is a language and optional words:
 *
 * - `ts` — a complete module: type-checked. `ts run` — type-checked and run. `ts fragment` — a
 *   piece of a program: type-checked with the names of fragment-context.ts and tributary's exports
 *   in scope.
 * - `sh` — command lines the test checks without running them. `sh run` — run, and compared with
 *   the `text output` block right after it, if there is one.
 * - `json` — parsed. `text` — a picture or sample output, not code.
 * - `illustrative` on any block — not run: it needs a Kafka cluster, a consumer project, a
 *   placeholder, ... Every other block fails the test.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CodeBlock {
  /** Path from the repository root, e.g. `docs/dsl.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  words: string[];
  text: string;
}

export type BlockKind = 'illustrative' | 'ts' | 'ts-run' | 'ts-fragment' | 'sh' | 'sh-run' | 'json' | 'text' | 'output';

/** README.md and docs/*.md (not deeper: docs/examples holds code, not pages). */
export function documentationFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The fenced blocks of one Markdown text (``` or ~~~ fences, possibly indented, as CommonMark has them). */
export function extractBlocks(file: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] ?? '';
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (close && close[1]?.[0] === fence[0] && (close[1]?.length ?? 0) >= fence.length) break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    const [lang = '', ...words] = info.trim().split(/\s+/).filter((w) => w.length > 0);
    blocks.push({ file, line: i + 1, lang, words, text: body.join('\n') });
    i = j;
  }
  return blocks;
}

export function allBlocks(root: string): CodeBlock[] {
  return documentationFiles(root).flatMap((file) => extractBlocks(file, readFileSync(join(root, file), 'utf8')));
}

const WORDS: Record<string, string[]> = {
  ts: ['run', 'fragment'],
  sh: ['run'],
  text: ['output'],
  json: [],
};

/** What the test does with a block, or why it cannot: a message for the block's author. */
export function kindOf(block: CodeBlock): BlockKind | { error: string } {
  if (block.words.includes('illustrative')) return 'illustrative';
  const lang = block.lang === 'typescript' ? 'ts' : block.lang === 'bash' || block.lang === 'shell' ? 'sh' : block.lang;
  const allowed = WORDS[lang];
  if (allowed === undefined) {
    return { error: `a \`\`\`${block.lang || '(no language)'} block is neither run nor marked: give it ts, sh, json or text, or add 'illustrative' to its info string` };
  }
  const unknown = block.words.filter((w) => !allowed.includes(w));
  if (unknown.length > 0) return { error: `unknown word(s) ${unknown.join(', ')} in the info string of a ${lang} block (known: ${[...allowed, 'illustrative'].join(', ')})` };
  if (block.words.length > 1) return { error: `a ${lang} block takes one of ${allowed.join(', ')}, not several` };
  const word = block.words[0];
  if (lang === 'text') return word === 'output' ? 'output' : 'text';
  if (word === undefined) return lang as BlockKind;
  return `${lang}-${word}` as BlockKind;
}

export const where = (block: CodeBlock): string => `${block.file}:${block.line}`;

/**
 * One shell line split into words as sh would (quotes, backslash escapes); comments after `#`
 * dropped. Enough for documented command lines: no expansions, pipes or substitutions.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      if (end < 0) throw new Error(`unclosed ${c} in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '\\') {
      word = (word ?? '') + (line[i + 1] ?? '');
      i++;
    } else if (c === '#' && word === null) {
      break;
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (/[|&;<>()$`]/.test(c)) {
      throw new Error(`'${c}' is more shell than test/docs checks: ${line}`);
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** The command lines of a shell block: continuation lines joined, blank and comment-only lines left out. */
export function commandLines(text: string): Array<{ offset: number; words: string[] }> {
  const commands: Array<{ offset: number; words: string[] }> = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + (lines[++i] ?? '');
    const words = shellWords(line);
    if (words.length > 0) commands.push({ offset: start, words });
  }
  return commands;
}
