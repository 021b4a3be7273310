/**
 * Docs that run: every fenced code block of README.md and docs/*.md is type-checked, run, checked or
 * marked illustrative (the convention: CONTRIBUTING.md, "Docs that run"; the parsing: code-blocks.ts).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tributary from 'tributary';
import { checkCommandLine, exitCode, main } from '../../src/cli/cli.ts';
import { allBlocks, commandLines, kindOf, where, type BlockKind, type CodeBlock } from './code-blocks.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const blocks = allBlocks(root);
const kinds = new Map<CodeBlock, BlockKind | { error: string }>(blocks.map((b) => [b, kindOf(b)]));
const ofKind = (...wanted: BlockKind[]): CodeBlock[] => blocks.filter((b) => wanted.includes(kinds.get(b) as BlockKind));

/** The generated modules, one per TypeScript block, in a folder of this run (removed after; a crashed run's is git-ignored and left out of tsc). */
const outDir = join(root, 'test/docs', `.generated-${process.pid}`);
const moduleOf = new Map<CodeBlock, string>();

/** `./x` and `../x` in a block are resolved from the repository root, as from a file at the root. */
function rootRelativeImports(text: string): string {
  return text.replace(/(from\s+|import\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\2/g, (_m, lead: string, quote: string, spec: string) => {
    const target = relative(outDir, resolve(root, spec)).replaceAll('\\', '/');
    return `${lead}${quote}${target.startsWith('.') ? target : `./${target}`}${quote}`;
  });
}

/** The names a block declares at its top level (imports included): a fragment's context must not import them again. */
function declaredNames(text: string): Set<string> {
  const source = ts.createSourceFile('block.ts', text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const names = new Set<string>();
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of source.statements) {
    if (ts.isVariableStatement(statement)) for (const d of statement.declarationList.declarations) bind(d.name);
    else if ((ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name) {
      names.add(statement.name.text);
    } else if (ts.isImportDeclaration(statement) && statement.importClause) {
      const clause = statement.importClause;
      if (clause.name) names.add(clause.name.text);
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings)) for (const e of bindings.elements) names.add(e.name.text);
    }
  }
  return names;
}

const contextFile = join(root, 'test/docs/fragment-context.ts');

/** fragment-context.ts's exports, split into values and types (for `import` and `import type`). */
function contextExports(): { values: string[]; types: string[] } {
  const text = readFileSync(contextFile, 'utf8');
  const values = [...text.matchAll(/^export declare (?:const|function) (\w+)/gm)].map((m) => m[1] ?? '');
  const types = [
    ...[...text.matchAll(/^export (?:interface|type) (\w+)/gm)].map((m) => m[1] ?? ''),
    ...[...text.matchAll(/^export type \{([^}]*)\}/gm)].flatMap((m) => (m[1] ?? '').split(',').map((n) => n.trim())),
  ].filter((n) => n.length > 0);
  return { values, types };
}

/**
 * The module for one block. Its lines are the block's lines, so a diagnostic's line is the doc's
 * line (fence + 1 + line); what a fragment gets in scope is imported on the last line (imports are
 * hoisted), and `export {}` makes every block a module of its own.
 */
function moduleText(block: CodeBlock, kind: BlockKind): string {
  const lines = [rootRelativeImports(block.text)];
  if (kind === 'ts-fragment') {
    const declared = declaredNames(block.text);
    const context = contextExports();
    const values = context.values.filter((n) => !declared.has(n));
    const types = context.types.filter((n) => !declared.has(n));
    const library = Object.keys(tributary).filter((n) => !declared.has(n) && !values.includes(n));
    const spec = relative(outDir, contextFile).replaceAll('\\', '/');
    lines.push(
      [
        values.length > 0 ? `import { ${values.join(', ')} } from '${spec}';` : '',
        types.length > 0 ? `import type { ${types.join(', ')} } from '${spec}';` : '',
        library.length > 0 ? `import { ${library.join(', ')} } from 'tributary';` : '',
      ].join(' '),
    );
  }
  lines.push('export {};');
  return `${lines.join('\n')}\n`;
}

beforeAll(() => {
  mkdirSync(outDir, { recursive: true });
  for (const block of ofKind('ts', 'ts-run', 'ts-fragment')) {
    const file = join(outDir, `${block.file.replace(/[/.]/g, '_')}_${block.line}.ts`);
    writeFileSync(file, moduleText(block, kinds.get(block) as BlockKind));
    moduleOf.set(block, file);
  }
});

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe('the code blocks of README.md and docs/*.md', () => {
  it('are each run, checked or marked illustrative', () => {
    expect(blocks.length).toBeGreaterThan(40);
    const unmarked = blocks.flatMap((b) => {
      const kind = kinds.get(b);
      return typeof kind === 'object' ? [`${where(b)}: ${kind.error}`] : [];
    });
    expect(unmarked).toEqual([]);
    // An output block belongs to the `sh run` block right before it.
    const orphans = blocks.filter((b, i) => kinds.get(b) === 'output' && !(blocks[i - 1]?.file === b.file && kinds.get(blocks[i - 1] as CodeBlock) === 'sh-run'));
    expect(orphans.map(where)).toEqual([]);
  });

  it("TypeScript blocks type-check, in one program, with a consumer's strictest flags", () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); } });
    if (!parsed) throw new Error('tsconfig.json did not parse');
    const options: ts.CompilerOptions = {
      ...parsed.options,
      noEmit: true,
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noPropertyAccessFromIndexSignature: true,
    };
    const files = [...moduleOf.values()];
    expect(files.length).toBeGreaterThan(15);
    const program = ts.createProgram(files, options);
    const blockOf = new Map([...moduleOf].map(([block, file]) => [resolve(file), block]));
    const problems = files.flatMap((file) => {
      const source = program.getSourceFile(file);
      if (!source) return [`${file}: not in the program`];
      return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
        const block = blockOf.get(resolve(file)) as CodeBlock;
        const { line, character } = source.getLineAndCharacterOfPosition(d.start ?? 0);
        return `${block.file}:${block.line + 1 + line}:${character + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    });
    expect(problems).toEqual([]);
  }, 120_000);

  describe('`ts run` blocks run', () => {
    it.each(ofKind('ts-run').map((b) => [where(b), b] as const))('%s', async (_where, block) => {
      const module = (await import(pathToFileURL(moduleOf.get(block) as string).href)) as { default?: { build?: () => tributary.Topology } };
      // A block that default-exports a topology (a topology file) is built: a topology that cannot be built throws here.
      if (typeof module.default?.build === 'function') expect(module.default.build().describe()).toMatch(/^Topologies:/);
    });
  });

  describe('`sh` blocks hold command lines the project accepts', () => {
    const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    it.each(ofKind('sh', 'sh-run').map((b) => [where(b), b] as const))('%s', (_where, block) => {
      const problems: string[] = [];
      for (const { offset, words: all } of commandLines(block.text)) {
        const at = `${block.file}:${block.line + 1 + offset}`;
        const words = all.slice(all.findIndex((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w)));
        const [tool, first, ...rest] = words;
        try {
          if (tool === 'npx' && first === 'tributary') checkCommandLine(rest);
          else if (tool === 'npm' && first === 'run' && rest[0] === 'cli' && rest[1] === '--') checkCommandLine(rest.slice(2));
          else if (tool === 'tributary') throw new Error('a bare `tributary` is not on the PATH: write `npx tributary` (a project that installed it) or `npm run cli --` (this repository)');
          else if (tool === 'npm' && first === 'ci' && rest.length === 0) continue;
          else if (tool === 'npm' && (first === 'start' || first === 'test') && rest.length === 0) {
            if (scripts[first] === undefined) throw new Error(`package.json has no ${first} script`);
          } else if (tool === 'npm' && first === 'run' && rest[0] !== undefined) {
            if (scripts[rest[0]] === undefined) throw new Error(`package.json has no ${rest[0]} script`);
          } else if (tool === 'npx' && (first === 'tsx' || (first === 'vitest' && rest[0] === 'run'))) {
            for (const file of (first === 'tsx' ? rest.slice(0, 1) : rest.slice(1)).filter((w) => !w.startsWith('-'))) {
              checkCommandLine(['describe', file]);
            }
          } else {
            throw new Error(`\`${words.join(' ')}\` is not a command test/docs checks (npx tributary, npm run cli --, npm scripts, npx tsx/vitest on files): mark the block illustrative`);
          }
        } catch (error) {
          problems.push(`${at}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      expect(problems).toEqual([]);
    });
  });

  describe('`sh run` blocks print what the docs show', () => {
    it.each(ofKind('sh-run').map((b) => [where(b), b] as const))('%s', async (_where, block) => {
      let stdout = '';
      for (const { words } of commandLines(block.text)) {
        const args = words[0] === 'npx' && words[1] === 'tributary' ? words.slice(2) : words[0] === 'npm' && words[3] === '--' ? words.slice(4) : null;
        if (args === null) throw new Error(`${where(block)}: a \`sh run\` block runs tributary commands only, got: ${words.join(' ')}`);
        vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void (stdout += `${parts.join(' ')}\n`));
        vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
        let code: number;
        try {
          code = await main(args);
        } catch (error) {
          code = exitCode(error);
        } finally {
          vi.restoreAllMocks();
        }
        expect(code, words.join(' ')).toBe(0);
      }
      const next = blocks[blocks.indexOf(block) + 1];
      if (next !== undefined && next.file === block.file && kinds.get(next) === 'output') expect(stdout.trimEnd()).toBe(next.text.trimEnd());
      else expect(stdout.length).toBeGreaterThan(0);
    });
  });

  it('`json` blocks parse', () => {
    const problems = ofKind('json').flatMap((b) => {
      try {
        JSON.parse(b.text);
        return [];
      } catch (error) {
        return [`${where(b)}: ${error instanceof Error ? error.message : String(error)}`];
      }
    });
    expect(ofKind('json').length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});

