import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { AppConfig } from '../config/app-config';
import { InjectLogger } from '../logging/logging.module';
import type { DeclaredSubscriptionDto } from './dto/declared-subscription.dto';
import { SubscriptionsFileError, SubscriptionsFileLoader } from './subscriptions-file.loader';
import { type DeclaredOutcome, SubscriptionsService } from './subscriptions.service';

/**
 * Upserts the subscriptions declared in SUBSCRIPTIONS_FILE at start-up. Every entry is checked
 * (including the SSRF and event-type rules) before anything is written, so a bad file changes
 * nothing and stops start-up. Subscriptions removed from the file are left alone.
 */
@Injectable()
export class SubscriptionsFileSync implements OnApplicationBootstrap {
  private readonly logger: Logger;

  constructor(
    private readonly config: AppConfig,
    private readonly loader: SubscriptionsFileLoader,
    private readonly service: SubscriptionsService,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'subscriptions-file' });
  }

  async onApplicationBootstrap(): Promise<void> {
    const path = this.config.subscriptionsFile;
    if (path) {
      await this.sync(path);
    }
  }

  async sync(path: string): Promise<Record<DeclaredOutcome, number>> {
    const entries = await this.loader.load(path);
    this.check(path, entries);
    const counts: Record<DeclaredOutcome, number> = { created: 0, updated: 0, unchanged: 0 };
    for (const entry of entries) {
      counts[await this.service.upsertDeclared(entry)]++;
    }
    this.logger.info({ file: path, ...counts }, 'subscriptions file applied');
    return counts;
  }

  private check(path: string, entries: DeclaredSubscriptionDto[]): void {
    const problems = entries.flatMap((entry, index) =>
      this.service
        .findProblems(entry)
        .map(
          ({ field, problems: list }) =>
            `subscriptions[${index}] (id ${JSON.stringify(entry.id)}): ${field}: ${list.join('; ')}`,
        ),
    );
    if (problems.length > 0) {
      throw new SubscriptionsFileError(path, problems);
    }
  }
}
