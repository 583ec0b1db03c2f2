/**
 * A gateway process for engine tests (run by node with ts-node's transpile-only hook): the real startGateway
 * with the configuration from the environment, plus engine options from TEST_ENGINE_OPTIONS (JSON; e.g. a
 * short BullMQ lock so that a killed instance's jobs are recovered within a test). Logs JSON lines on stdout
 * like `image-task-bridge serve` (usage lines included); SIGTERM closes it.
 */
import 'reflect-metadata';
import { loadConfig } from '../../src/config/config';
import { ENGINE_OPTIONS } from '../../src/di/tokens';
import { startGateway } from '../../src/http/gateway';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const engine = JSON.parse(process.env.TEST_ENGINE_OPTIONS ?? '{}') as Record<string, unknown>;
  const gateway = await startGateway(config, { processMetrics: false, register: (c) => c.register(ENGINE_OPTIONS, { useValue: engine }) });
  process.once('SIGTERM', () => void gateway.close().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`engine child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
