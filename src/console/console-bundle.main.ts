import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleConsole } from './console-bundle';
import { CONSOLE_PUBLIC_DIR } from './console-assets';

/**
 * `npm run build`, after tsc: writes the console's bundle to dist/console/public, where the
 * compiled ConsoleAssets reads it. Run from the sources (ts-node); it is not compiled into dist.
 */
async function main(): Promise<void> {
  const dir = join(__dirname, '..', '..', 'dist', 'console', CONSOLE_PUBLIC_DIR);
  mkdirSync(dir, { recursive: true });
  const assets = await bundleConsole();
  for (const asset of assets) {
    writeFileSync(join(dir, asset.name), asset.contents);
  }
  process.stdout.write(
    `console bundle: ${assets.map((a) => `${a.name} ${a.contents.byteLength} bytes`).join(', ')} -> ${dir}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `console bundle failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
