import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CaseRecord } from '../../../hub/src/cases/model.js';
import { openCaseStore } from '../../../hub/src/cases/store.js';
import { findOverdue } from '../../../hub/src/cases/workflow.js';
import { startTsScript } from '../../helpers/cli-process.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cg-cases-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('case store under kill -9', () => {
  it('every case whose save returned is there after a SIGKILL, with its open deadline', async () => {
    const writer = startTsScript(path.join('tests/hub/cases/case-writer.ts'), [path.join(dir, 'data')], {
      logFile: path.join(dir, 'writer.log'),
    });
    await writer.waitFor(/^saved CG-000200 /, 30_000);
    await writer.stop('SIGKILL');
    const printed = writer
      .output()
      .split('\n')
      .filter((l) => l.startsWith('saved '))
      .map((l) => l.split(' '));
    expect(printed.length).toBeGreaterThanOrEqual(200);

    const store = openCaseStore(path.join(dir, 'data'));
    try {
      const open = new Map(store.openCases().map((c) => [c.id, c]));
      // The save in flight at the kill may or may not have committed; nothing printed is missing.
      expect(open.size - printed.length).toBeGreaterThanOrEqual(0);
      expect(open.size - printed.length).toBeLessThanOrEqual(1);
      for (const [, id, dueAt] of printed) {
        const c = open.get(id as string);
        expect(c?.state, id).toBe('dispatched');
        expect(c?.history.map((h) => h.action)).toEqual(['report', 'accept', 'file', 'dispatch']);
        expect(c?.deadlines.handle?.dueAt).toBe(Number(dueAt));
        expect(store.signalCount(id as string)).toBe(1);
        // The overdue clock works on the reloaded deadline.
        expect(findOverdue(c as CaseRecord, Number(dueAt) + 1)).toHaveLength(1);
      }
      // Ids are never reused: the counter is at or past the last committed case (an id taken by a
      // case whose save the kill cut off is skipped, not handed out again).
      const next = Number(store.nextId('CG').slice(3));
      expect(next).toBeGreaterThan(open.size);
      expect(next).toBeLessThanOrEqual(open.size + 2);
    } finally {
      store.close();
    }
  });
});
