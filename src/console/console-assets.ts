import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';

/** The names the bundle's files are served under. */
export type ConsoleAssetName = 'console.js' | 'console.css';

export interface BundledAsset {
  name: ConsoleAssetName;
  contents: Uint8Array;
}

/** What console-bundle.ts exports (declared here: that module is not compiled into dist). */
interface ConsoleBundler {
  bundleConsole: () => Promise<BundledAsset[]>;
}

/** Where `npm run build` puts the bundle, relative to the compiled console module. */
export const CONSOLE_PUBLIC_DIR = 'public';

const CONTENT_TYPES: Record<ConsoleAssetName, string> = {
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

export function isConsoleAssetName(name: string): name is ConsoleAssetName {
  return Object.hasOwn(CONTENT_TYPES, name);
}

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

export interface LoadedConsole {
  /** A hash of the bundle: the page asks for `?v=<version>`, so a new build is never stale. */
  version: string;
  assets: Map<ConsoleAssetName, ConsoleAsset>;
}

/** Gets the bundle's files, by name. */
export type ConsoleBundleLoader = () => Promise<Partial<Record<ConsoleAssetName, Uint8Array>>>;

/** The console cannot be served: the bundle was not built (or did not build). */
export class ConsoleUnavailableError extends Error {
  readonly code = 'CONSOLE_UNAVAILABLE';
}

/**
 * The bundle from `dir` (the console module's own folder): the built files in `public/` when
 * there are some (dist, the image), else, when the browser sources are there (ts-node, jest,
 * the demo), bundled in memory by esbuild. The bundler is loaded by a computed path so that it,
 * and esbuild, a dev dependency, are never part of what main.ts imports.
 */
export function bundleLoaderFor(dir: string): ConsoleBundleLoader {
  return async () => {
    const built = join(dir, CONSOLE_PUBLIC_DIR);
    if (existsSync(join(built, 'console.js')) && existsSync(join(built, 'console.css'))) {
      const [js, css] = await Promise.all([
        readFile(join(built, 'console.js')),
        readFile(join(built, 'console.css')),
      ]);
      return { 'console.js': js, 'console.css': css };
    }
    if (!existsSync(join(dir, 'app', 'main.ts'))) {
      throw new ConsoleUnavailableError(
        `the console was not built: no ${join(built, 'console.js')} (npm run build writes it)`,
      );
    }
    const bundler = join(dir, 'console-bundle');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { bundleConsole } = require(bundler) as ConsoleBundler;
    const files: Partial<Record<ConsoleAssetName, Uint8Array>> = {};
    for (const asset of await bundleConsole()) {
      files[asset.name] = asset.contents;
    }
    return files;
  };
}

export const CONSOLE_BUNDLE_LOADER = Symbol('CONSOLE_BUNDLE_LOADER');

/** One load per loader and process: several apps in one test process share one build. */
const loads = new WeakMap<ConsoleBundleLoader, Promise<LoadedConsole>>();

/** The console's bundle, loaded on first use (a process that never serves it never builds it). */
@Injectable()
export class ConsoleAssets {
  constructor(@Inject(CONSOLE_BUNDLE_LOADER) private readonly loader: ConsoleBundleLoader) {}

  get(): Promise<LoadedConsole> {
    let loading = loads.get(this.loader);
    if (!loading) {
      loading = load(this.loader);
      loads.set(this.loader, loading);
      // A failed build is tried again on the next request (the sources may have been fixed).
      loading.catch(() => loads.delete(this.loader));
    }
    return loading;
  }
}

async function load(loader: ConsoleBundleLoader): Promise<LoadedConsole> {
  const files = await loader();
  const hash = createHash('sha256');
  const assets = new Map<ConsoleAssetName, ConsoleAsset>();
  for (const name of Object.keys(CONTENT_TYPES) as ConsoleAssetName[]) {
    const contents = files[name];
    if (!contents) {
      throw new ConsoleUnavailableError(`the console bundle has no ${name}`);
    }
    const body = Buffer.from(contents);
    const digest = createHash('sha256').update(body).digest('base64url').slice(0, 22);
    hash.update(digest);
    assets.set(name, { body, contentType: CONTENT_TYPES[name], etag: `"${digest}"` });
  }
  return { version: hash.digest('base64url').slice(0, 12), assets };
}
