import { Module } from '@nestjs/common';
import { bundleLoaderFor, CONSOLE_BUNDLE_LOADER, ConsoleAssets } from './console-assets';
import { ConsoleController } from './console.controller';

/** Built once per process: every app started in it shares the one bundle. */
const loader = bundleLoaderFor(__dirname);

/** `/console`, served by the api and all roles. */
@Module({
  controllers: [ConsoleController],
  providers: [ConsoleAssets, { provide: CONSOLE_BUNDLE_LOADER, useValue: loader }],
})
export class ConsoleModule {}
