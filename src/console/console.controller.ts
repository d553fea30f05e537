import { Controller, Get, Headers, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Logger } from 'pino';
import { InjectLogger } from '../logging/logging.module';
import {
  ConsoleAssets,
  ConsoleUnavailableError,
  isConsoleAssetName,
  type LoadedConsole,
} from './console-assets';
import { CONSOLE_HEADERS, consolePage } from './console-page';

/** What the console answers with; Express's response, reduced to what is used. */
interface ConsoleResponse {
  status(code: number): this;
  setHeader(name: string, value: string): unknown;
  end(body?: string | Buffer): unknown;
}

/**
 * `/console`: the operator console, a single-page app that talks to the admin API with the key
 * the operator types in. Not part of the OpenAPI document. Every answer carries a strict
 * Content-Security-Policy.
 */
@ApiExcludeController()
@Controller('console')
export class ConsoleController {
  private readonly logger: Logger;

  constructor(
    private readonly assets: ConsoleAssets,
    @InjectLogger() logger: Logger,
  ) {
    this.logger = logger.child({ component: 'console' });
  }

  @Get()
  async page(@Res() res: ConsoleResponse): Promise<void> {
    const loaded = await this.load(res);
    if (loaded) {
      this.send(res, 200, 'text/html; charset=utf-8', consolePage(loaded.version), 'no-cache');
    }
  }

  @Get('assets/:name')
  async asset(
    @Param('name') name: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() res: ConsoleResponse,
  ): Promise<void> {
    if (!isConsoleAssetName(name)) {
      this.send(res, 404, 'text/plain; charset=utf-8', 'not found', 'no-cache');
      return;
    }
    const loaded = await this.load(res);
    const asset = loaded?.assets.get(name);
    if (!asset) {
      return;
    }
    res.setHeader('ETag', asset.etag);
    if (ifNoneMatch === asset.etag) {
      this.send(res, 304, asset.contentType, undefined, 'no-cache');
      return;
    }
    this.send(res, 200, asset.contentType, asset.body, 'no-cache');
  }

  /** The bundle, or a 503 already sent that says why there is none. */
  private async load(res: ConsoleResponse): Promise<LoadedConsole | undefined> {
    try {
      return await this.assets.get();
    } catch (error) {
      const message =
        error instanceof ConsoleUnavailableError
          ? error.message
          : 'the console bundle could not be built; see the service log';
      this.logger.error({ err: error }, 'console unavailable');
      this.send(res, 503, 'text/plain; charset=utf-8', message, 'no-store');
      return undefined;
    }
  }

  private send(
    res: ConsoleResponse,
    status: number,
    contentType: string,
    body: string | Buffer | undefined,
    cacheControl: string,
  ): void {
    for (const [name, value] of Object.entries(CONSOLE_HEADERS)) {
      res.setHeader(name, value);
    }
    res.setHeader('Content-Type', contentType);
    res.setHeader('Cache-Control', cacheControl);
    res.status(status).end(body);
  }
}
