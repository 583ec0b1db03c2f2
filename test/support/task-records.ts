/** Sample task records for store and service tests. */
import type { TaskRecord } from '../../src/tasks/task-record';

let counter = 0;

/** A queued Nano record with a unique id (override anything). */
export function sampleRecord(overrides: Partial<TaskRecord> = {}): TaskRecord {
  counter += 1;
  const id = `task_${String(counter).padStart(4, '0')}AAAAAAAAAAAAAAAAAAAAAAAA`;
  return {
    id,
    owner: 'owner-a',
    channelId: 'hub-1',
    adapterId: 'hub',
    upstreamRef: { id: `up-${counter}` },
    model: 'NanoBanana2-1K',
    family: 'nano-banana-2',
    taskType: 'text2image',
    billing: { requestedImages: 2 },
    status: 'queued',
    progress: 0,
    resultUrls: [],
    error: null,
    warnings: [{ code: 'quality_ignored', param: 'quality', message: 'Nano models decide quality by tier; quality was not sent.' }],
    metadata: { requested_size: '1024x768' },
    createdAt: 1_735_689_600_000,
    updatedAt: 1_735_689_600_000,
    lastPolledAt: 0,
    usageSettled: false,
    ...overrides,
  };
}
