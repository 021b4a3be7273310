import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const section = readFileSync(join(root, 'docs/dsl.md'), 'utf8').split('## Operators ported from Kafka Streams')[1] ?? '';
const blocks = [...section.matchAll(/^### (.+)$|^```ts\n([\s\S]*?)^```$/gm)].reduce<{ heading: string; code: string }[]>((acc, m) => {
  if (m[1] !== undefined) acc.push({ heading: m[1], code: '' });
  else if (acc.length > 0 && m[2] !== undefined) acc[acc.length - 1]!.code = m[2];
  return acc;
}, []).filter((b) => b.code !== '');

describe('docs/dsl.md, "Operators ported from Kafka Streams": every example runs as written', () => {
  it('has examples', ({ expect }) => {
    expect(blocks.length).toBeGreaterThanOrEqual(7);
  });
  const dir = join(root, 'node_modules/.cache/porting-doc-blocks');
  mkdirSync(dir, { recursive: true });
  blocks.forEach(({ heading, code }, i) => {
    it(heading, async () => {
      const file = join(dir, `block-${i}.ts`);
      writeFileSync(file, `${code}\nexport {};\n`);
      await import(/* @vite-ignore */ file);
    });
  });
});
