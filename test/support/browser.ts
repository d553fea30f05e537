import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/**
 * A real headless Chromium for browser tests: Debian's `chromium` package (what .ci/run installs),
 * or the binary named by CHROMIUM_PATH. Driven by puppeteer-core, which downloads nothing.
 */

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];

export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    }
    return fromEnv;
  }
  for (const name of CANDIDATES) {
    try {
      const path = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (path !== '') {
        return path;
      }
    } catch {
      // not on the PATH
    }
  }
  throw new Error(
    'no Chromium found for the browser tests: install it (Debian: apt-get install -y chromium) ' +
      'or set CHROMIUM_PATH',
  );
}

export async function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    // --no-sandbox: CI containers run as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
    defaultViewport: { width: 1280, height: 900 },
  });
}

/** Everything a page reported that a test should fail on: script errors, CSP refusals. */
export function watchPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${String(error)}`));
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' && !/status of 401|Failed to load resource/.test(text)) {
      problems.push(`console error: ${text}`);
    }
    if (/Content Security Policy/i.test(text)) {
      problems.push(`CSP: ${text}`);
    }
  });
  return problems;
}

/** SCREENSHOTS_DIR (set by `npm run console:screenshots`): where views are captured, if anywhere. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOTS_DIR;
  if (!dir) {
    return;
  }
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}
