import { setCondition } from '../../../src/api/conditions.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-01T01:00:00Z');

test('lastTransitionTime moves only when status changes', () => {
  let c = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'A', message: 'm' }, t0);
  c = setCondition(c, { type: 'Ready', status: 'False', reason: 'B', message: 'n' }, t1);
  expect(c).toEqual([{ type: 'Ready', status: 'False', reason: 'B', message: 'n', lastTransitionTime: t0.toISOString() }]);
  c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Synced', message: 'ok' }, t1);
  expect(c[0]?.lastTransitionTime).toBe(t1.toISOString());
});

test('one condition per type, Ready first', () => {
  let c = setCondition(undefined, { type: 'Synced', status: 'True', reason: 'Synced', message: '' }, t0);
  c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Synced', message: '' }, t0);
  c = setCondition(c, { type: 'Ready', status: 'True', reason: 'Synced', message: '' }, t1);
  expect(c.map((x) => x.type)).toEqual(['Ready', 'Synced']);
});
