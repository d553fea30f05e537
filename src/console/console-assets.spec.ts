import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bundleLoaderFor,
  ConsoleAssets,
  type ConsoleBundleLoader,
  ConsoleUnavailableError,
} from './console-assets';

describe('ConsoleAssets', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'console-assets-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the built bundle from public/, typed and versioned by content', async () => {
    mkdirSync(join(dir, 'public'));
    writeFileSync(join(dir, 'public', 'console.js'), 'console.log(1)');
    writeFileSync(join(dir, 'public', 'console.css'), 'body{}');
    const loaded = await new ConsoleAssets(bundleLoaderFor(dir)).get();
    expect(loaded.assets.get('console.js')).toMatchObject({
      body: Buffer.from('console.log(1)'),
      contentType: 'text/javascript; charset=utf-8',
    });
    expect(loaded.assets.get('console.css')?.contentType).toBe('text/css; charset=utf-8');

    writeFileSync(join(dir, 'public', 'console.js'), 'console.log(2)');
    const rebuilt = await new ConsoleAssets(bundleLoaderFor(dir)).get();
    expect(rebuilt.version).not.toBe(loaded.version);
    expect(rebuilt.assets.get('console.js')?.etag).not.toBe(loaded.assets.get('console.js')?.etag);
  });

  it('says the console was not built when there is neither a bundle nor the sources', async () => {
    await expect(new ConsoleAssets(bundleLoaderFor(dir)).get()).rejects.toThrow(
      ConsoleUnavailableError,
    );
    await expect(new ConsoleAssets(bundleLoaderFor(dir)).get()).rejects.toThrow(
      /the console was not built: no .*console\.js \(npm run build writes it\)/,
    );
  });

  it('loads once per loader, and tries again after a failure', async () => {
    let calls = 0;
    const loader: ConsoleBundleLoader = () => {
      calls += 1;
      return calls === 1
        ? Promise.reject(new Error('esbuild: syntax error'))
        : Promise.resolve({
            'console.js': new TextEncoder().encode('x'),
            'console.css': new TextEncoder().encode('y'),
          });
    };
    await expect(new ConsoleAssets(loader).get()).rejects.toThrow('syntax error');
    await new Promise((resolve) => setImmediate(resolve));
    const first = await new ConsoleAssets(loader).get();
    const second = await new ConsoleAssets(loader).get();
    expect(second).toBe(first);
    expect(calls).toBe(2);
  });

  it('refuses a bundle that lacks a file', async () => {
    const loader: ConsoleBundleLoader = () =>
      Promise.resolve({ 'console.js': new TextEncoder().encode('x') });
    await expect(new ConsoleAssets(loader).get()).rejects.toThrow(
      'the console bundle has no console.css',
    );
  });
});
