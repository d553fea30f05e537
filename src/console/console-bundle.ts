import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import type { BundledAsset, ConsoleAssetName } from './console-assets';

/**
 * Bundles the browser app (app/) into console.js and console.css with esbuild, a dev dependency:
 * `npm run build` writes them to dist/console/public (console-bundle.main.ts), and a process
 * running from the sources (ts-node, jest) has ConsoleAssets call this in memory instead. The
 * production process only ever reads the built files: this module is not compiled into dist, and
 * nothing reachable from main.ts imports it.
 */

export const CONSOLE_APP_DIR = join(__dirname, 'app');
export const CONSOLE_ENTRY_POINTS = {
  console: join(CONSOLE_APP_DIR, 'main.ts'),
  // A separate entry point, not an import from main.ts: the browser sources stay plain TypeScript.
  'console-style': join(CONSOLE_APP_DIR, 'console.css'),
};

function options(): BuildOptions {
  return {
    entryPoints: CONSOLE_ENTRY_POINTS,
    bundle: true,
    minify: true,
    // Browsers of the last few years; no polyfills needed for what the app uses.
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    format: 'iife',
    platform: 'browser',
    tsconfig: join(CONSOLE_APP_DIR, 'tsconfig.json'),
    legalComments: 'none',
    logLevel: 'silent',
    write: false,
    outdir: '/console-out',
  };
}

function assetName(path: string): ConsoleAssetName {
  return path.endsWith('.css') ? 'console.css' : 'console.js';
}

/** Builds the bundle in memory. */
export async function bundleConsole(): Promise<BundledAsset[]> {
  // Loaded here rather than at the top so that merely importing this file needs no esbuild.
  const esbuild = await import('esbuild');
  const result = await esbuild.build(options());
  return (result.outputFiles ?? []).map((file) => ({
    name: assetName(file.path),
    contents: file.contents,
  }));
}
