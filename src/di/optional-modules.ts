/**
 * The modules a deployment loads only when its configuration uses them: the Redis task store, submit limiter,
 * BullMQ scheduler and notifier (`TASK_STORE=redis`) and the S3 blob store (`BLOB_STORE=s3`). Imported at start,
 * ioredis, BullMQ and the AWS SDK cost a gateway on the memory store and local blobs ~28 MiB of RSS it never used
 * (docs/benchmarks.md "Start-up RSS"). Each loader is a plain `require`, run when the container builds the part
 * that needs it; the types come from type-only imports, so nothing here loads a module at import time.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- loading on first use is this file's one job */

export const loadRedisTaskStore = (): typeof import('../tasks/redis-task-store') => require('../tasks/redis-task-store');
export const loadRedisSubmitLimiter = (): typeof import('../security/redis-submit-limiter') => require('../security/redis-submit-limiter');
export const loadBullMqTaskScheduler = (): typeof import('../tasks/engine/bullmq-task-scheduler') => require('../tasks/engine/bullmq-task-scheduler');
export const loadBullmqTaskNotifier = (): typeof import('../webhooks/bullmq-task-notifier') => require('../webhooks/bullmq-task-notifier');
export const loadS3BlobStore = (): typeof import('../blobs/s3-blob-store') => require('../blobs/s3-blob-store');
