/** README's reference sections are generated from the code; these tests keep them honest. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { metricsFound, renderReadme } from '../../bin/lib/reference-docs.js';
import { ROOT } from '../helpers/cli-process.js';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : name.endsWith('.ts') ? [full] : [];
  });
}

describe('README', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

  it('has current config, metrics and field references (run `npm run docs` after changing them)', () => {
    expect(renderReadme(readme, ROOT)).toBe(readme);
  });

  it('documents every metric name the code registers', () => {
    const registered = new Set<string>();
    for (const part of ['hub', 'edge', 'drivers']) {
      for (const file of sources(path.join(ROOT, part))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/\.(?:counter|gauge)\(\s*'(citygrid_[a-z0-9_]+)'/g))
          registered.add(m[1] as string);
      }
    }
    const documented = new Set(metricsFound(ROOT).map((m) => m.name));
    expect([...registered].filter((n) => !documented.has(n))).toEqual([]);
    for (const name of registered) expect(readme).toContain(`\`${name}\``);
  });

  it('names the test command CI runs, and .ci/run runs exactly it', () => {
    expect(readme).toContain('npm test');
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    expect(ci.trim().split('\n').at(-1)).toBe('exec npm test');
  });
});
