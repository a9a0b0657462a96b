/**
 * Test process for the case store's kill -9 test: opens cases.db in the given dir and, until it is
 * killed, opens, files and dispatches one case after another, printing `saved <id> <handle dueAt>`
 * only after each save has returned (committed).
 */
import { Correlator } from '../../../hub/src/cases/correlation.js';
import { createResponsibility } from '../../../hub/src/cases/responsibility.js';
import { openCaseStore } from '../../../hub/src/cases/store.js';
import { transition } from '../../../hub/src/cases/workflow.js';
import { city, commander, ctx, MIN, sh, supervisor } from './fixtures.js';

const store = openCaseStore(process.argv[2] as string);
const cor = new Correlator({ ctx, responsibility: createResponsibility(city), newId: () => store.nextId('CG') });
const t0 = sh('2026-11-24 10:00');
let i = 0;
const step = () => {
  const at = t0 + i * MIN;
  const out = cor.onReport({ category: 'event:0103', source: 'hotline', at, text: `渣土 ${i}`, point: [120.1, 30.23] });
  let c = transition(out.case, { action: 'accept', actor: supervisor, at }, ctx);
  c = transition(c, { action: 'file', actor: supervisor, at }, ctx);
  c = transition(c, { action: 'dispatch', actor: commander, at: at + MIN }, ctx);
  cor.track(c);
  // A new point for every case, so none joins the one before.
  cor.track({ ...c, state: 'closed' });
  store.save({ cases: [c], signals: [out.signal], ruleState: [{ rule: 'r', key: `k${i % 7}`, state: { n: i } }] }, at);
  process.stdout.write(`saved ${c.id} ${c.deadlines.handle?.dueAt}\n`);
  i++;
  setImmediate(step);
};
step();
