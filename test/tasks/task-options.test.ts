/** The task defaults live in one table: the configuration and every task unit read the same values. */
import { DEFAULT_LIMITS } from '../../src/config/config';
import { DEFAULT_TASK_OPTIONS, resolveTaskOptions } from '../../src/tasks/task-options';

test('the configuration defaults are the task defaults (one deadline, one interval, one query wait)', () => {
  expect(DEFAULT_LIMITS.taskDeadlineMs).toBe(DEFAULT_TASK_OPTIONS.deadlineMs);
  expect(DEFAULT_LIMITS.pollIntervalMs).toBe(DEFAULT_TASK_OPTIONS.pollIntervalMs);
  expect(DEFAULT_LIMITS.queryWaitMs).toBe(DEFAULT_TASK_OPTIONS.queryWaitMs);
  expect(DEFAULT_LIMITS.idempotencyTtlMs).toBe(DEFAULT_TASK_OPTIONS.idempotencyTtlMs);
  expect(DEFAULT_TASK_OPTIONS.deadlineMs).toBe(30 * 60 * 1000);
});

test('resolveTaskOptions fills in the defaults and keeps what is given', () => {
  const { sleep, ...numbers } = resolveTaskOptions({ deadlineMs: 5000 });
  expect(typeof sleep).toBe('function');
  expect(numbers).toStrictEqual({ ...DEFAULT_TASK_OPTIONS, deadlineMs: 5000 });
});

test.each([
  ['pollIntervalMs', 0],
  ['deadlineMs', -1],
  ['queryWaitMs', Number.NaN],
  ['settlementLeaseMs', 0],
  ['idempotencyWaitMs', -1],
])('resolveTaskOptions refuses %s = %p, naming it', (name, value) => {
  expect(() => resolveTaskOptions({ [name]: value })).toThrow(new RegExp(`Task option ${name} must be`));
});

test('idempotencyWaitMs may be 0 (answer 409 at once)', () => {
  expect(resolveTaskOptions({ idempotencyWaitMs: 0 }).idempotencyWaitMs).toBe(0);
});
