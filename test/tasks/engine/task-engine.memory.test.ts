import { describeTaskEngine } from './task-engine.suite';

describeTaskEngine(describe, 'the memory store (in-process scheduler)', async () => ({ env: () => ({ TASK_STORE: 'memory' }), dispose: async () => undefined }));
