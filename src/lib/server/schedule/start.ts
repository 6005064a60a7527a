import path from 'node:path';
import { loadConfig, loadDotEnv } from '../config.ts';
import { notifyAlerts } from '../alerts/notify.ts';
import { scheduleConfig, type ScheduleConfig } from './config.ts';
import { startScheduler, type Scheduler } from './index.ts';

/**
 * `npm start`'s side of scheduling (scripts/start.js calls these): check the settings before the server
 * starts, so a typo in a cron expression stops `npm start` with a message instead of silently never
 * collecting; then start the scheduler beside the server and stop it with the server.
 */
export function checkScheduleSettings(env: NodeJS.ProcessEnv = process.env): {
  dbPath: string;
  config: ScheduleConfig;
} {
  loadDotEnv();
  return { dbPath: loadConfig(env).dbPath, config: scheduleConfig(env) };
}

export function startFromEnv(root: string): Scheduler {
  const { dbPath, config } = checkScheduleSettings();
  const log = (l: string) => process.stderr.write(l + '\n');
  if (config.enabled) {
    const parts = (['instance', 'peers'] as const)
      .filter((k) => config.cron[k])
      .map(
        (k) =>
          `${k} "${config.cron[k]}"${config.jitterMs[k] ? ` + up to ${config.jitterMs[k] / 60_000} min` : ''}`
      );
    log(`fedipulse: scheduled collections on (${config.reason}): ${parts.join(', ')}`);
  } else {
    log(
      `fedipulse: scheduled collections off (${config.reason}); set FEDIPULSE_SCHEDULE=on to run them here`
    );
  }
  const scheduler = startScheduler({
    dbPath,
    config,
    bin: path.join(root, 'bin', 'fedipulse.js'),
    cwd: root,
    log,
    afterRun: async () => {
      await notifyAlerts({ dbPath, log });
    }
  });
  const onSignal = () => {
    void scheduler.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return scheduler;
}
