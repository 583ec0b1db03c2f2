import { InProcessTaskNotifier } from '../../src/webhooks/in-process-task-notifier';
import { describeTaskNotifier } from './task-notifier.suite';

describeTaskNotifier('in-process (memory store)', ({ delivery, policy, logger }) => new InProcessTaskNotifier(delivery, policy, logger));
