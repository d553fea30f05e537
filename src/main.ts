import 'reflect-metadata';
import { createApp } from './app.factory';
import { type AppConfig, ConfigValidationError, loadConfig } from './config/app-config';
import { EnvFileError, withEnvFile } from './config/env-file';
import { Lifecycle } from './health/lifecycle.service';
import { createRootLogger } from './logging/logger';

function readConfig(): AppConfig {
  try {
    // `.env` in the working directory, as .env.example promises; the environment wins.
    return loadConfig(withEnvFile('.env', process.env));
  } catch (error) {
    if (error instanceof ConfigValidationError || error instanceof EnvFileError) {
      // Plain stderr: the logger's level is itself configuration.
      process.stderr.write(`opentact-bridge: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function bootstrap(): Promise<void> {
  const config = readConfig();
  const logger = createRootLogger(config.logLevel);
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: reason }, 'unhandled rejection'),
  );

  let app;
  try {
    app = await createApp(config, logger);
    await app.listen(config.port, config.host);
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    logger.flush();
    process.exit(1);
  }
  logger.info({ role: config.role, port: config.port }, 'opentact-bridge started');

  // Our own handler instead of enableShutdownHooks' re-raise, so a clean stop exits 0.
  // Order (Nest's hooks): readiness fails now; the WSS stops reading (onModuleDestroy); workers
  // finish or abandon in-flight jobs within SHUTDOWN_TIMEOUT_MS (beforeApplicationShutdown);
  // queues and Redis close (onApplicationShutdown).
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    app.get(Lifecycle).beginShutdown();
    const hardStop = setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      logger.flush();
      process.exit(1);
    }, config.shutdownTimeoutMs + 10_000);
    hardStop.unref();
    app
      .close()
      .then(() => {
        logger.info('stopped cleanly');
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        logger.flush();
        process.exit(1);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

void bootstrap();
