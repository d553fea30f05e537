import type { Browser, Page } from 'puppeteer-core';
import type { OpentactSimulator } from '../../src/simulator/opentact-simulator';
import { OperationalStatsRepository } from '../../src/metrics/operational-stats.repository';
import { launchChromium, screenshot, watchPageProblems } from '../support/browser';
import { api, startBridge, startSimulator } from '../support/delivery-app';
import {
  deletePrefix,
  type StartedApp,
  TEST_ADMIN_KEY,
  uniquePrefix,
  waitFor,
} from '../support/harness';
import { ProgrammableReceiver } from '../support/webhook-receivers';

/**
 * The operator console in a real headless Chromium against the real service (all roles), the
 * simulator and a real webhook receiver. `npm run console:screenshots` runs this with
 * SCREENSHOTS_DIR=docs/console to refresh the README's pictures.
 */
describe('operator console (/console) in Chromium', () => {
  const prefix = uniquePrefix('console');
  let sim: OpentactSimulator;
  let bridge: StartedApp;
  let receiver: ProgrammableReceiver;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  const WAIT = { timeout: 20_000 };

  /** Every form control of the page that has no accessible label. */
  const unlabelled = (): Promise<string[]> =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll('input, select, textarea'))
        .filter(
          (el) =>
            (el as HTMLInputElement).labels?.length === 0 &&
            !el.getAttribute('aria-label') &&
            !el.getAttribute('aria-labelledby'),
        )
        .map((el) => el.outerHTML),
    );

  const textOf = (selector: string): Promise<string> =>
    page.$eval(selector, (el) => (el as HTMLElement).innerText);

  const go = async (route: string): Promise<void> => {
    await page.evaluate((hash) => {
      location.hash = hash;
    }, `#/${route}`);
    await page.waitForSelector(`a[data-route="${route}"][aria-current="page"]`, WAIT);
  };

  beforeAll(async () => {
    sim = await startSimulator();
    bridge = await startBridge(sim, prefix);
    receiver = await new ProgrammableReceiver({
      status: 500,
      body: 'down for maintenance',
    }).start();
    browser = await launchChromium();
    page = await browser.newPage();
    problems = watchPageProblems(page);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await bridge?.app.close();
    await sim?.stop();
    await receiver?.stop();
    await deletePrefix(prefix);
  });

  it('serves the page with a strict CSP and no inline script or style', async () => {
    const response = await page.goto(`${bridge.url}/console`, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await response!.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style/);
    await page.waitForSelector('input[type="password"]', WAIT);
  });

  it('shows an error for a wrong key and keeps nothing', async () => {
    await page.type('input[type="password"]', 'not-the-admin-key-0123456789abcdef');
    await page.click('button[type="submit"]');
    await page.waitForSelector('[role="alert"]', WAIT);
    expect(await textOf('[role="alert"]')).toMatch(/refused.*invalid admin API key/);
    expect(await page.evaluate(() => sessionStorage.length + localStorage.length)).toBe(0);
    expect(await unlabelled()).toEqual([]);
    await screenshot(page, 'sign-in');
  });

  it('signs in; the key is kept in sessionStorage only; status shows the connection', async () => {
    await page.$eval('input[type="password"]', (el) => (el.value = ''));
    await page.type('input[type="password"]', TEST_ADMIN_KEY);
    await page.click('button[type="submit"]');
    await page.waitForSelector('a[data-route="status"][aria-current="page"]', WAIT);
    await page.waitForFunction(
      () => document.getElementById('connection-state')?.textContent === 'open',
      WAIT,
    );
    const storage = await page.evaluate(() => ({
      session: Object.values(sessionStorage),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    expect(storage).toEqual({ session: [TEST_ADMIN_KEY], local: 0, cookie: '' });
    expect(await textOf('main')).toMatch(/Deliveries, last hour/);
  });

  it('creates a subscription', async () => {
    await go('subscriptions');
    await page.waitForSelector('input[name="url"]', WAIT);
    expect(await unlabelled()).toEqual([]);
    await page.type('input[name="url"]', receiver.url());
    await page.$eval('input[name="eventTypes"]', (el) => (el.value = ''));
    await page.type('input[name="eventTypes"]', 'sms.*, call.*');
    await page.type('input[name="description"]', 'browser test receiver');
    await page.type('input[name="rateLimitPerSecond"]', '50');
    await page.type('input[name="maxInFlight"]', '4');
    await page.click('form[aria-labelledby="sub-form-legend"] button[type="submit"]');
    await page.waitForSelector('#new-secret', WAIT);
    expect(await textOf('#new-secret')).toMatch(/^whsec_/);
    await page.waitForSelector('tr[data-subscription]', WAIT);

    const listed = await api<{
      data: { id: string; url: string; ordering: string; maxInFlight?: number }[];
    }>(bridge, 'GET', '/v1/subscriptions');
    expect(listed.body.data).toEqual([
      expect.objectContaining({
        url: receiver.url(),
        ordering: 'none',
        rateLimitPerSecond: 50,
        maxInFlight: 4,
      }),
    ]);
    expect(await textOf('tr[data-subscription]')).toMatch(/ordering none.*50\/s.*≤ 4 in flight/s);
    await screenshot(page, 'subscriptions');
  });

  it('shows a delivery arrive, its failed attempts, and a retry once the receiver recovers', async () => {
    await go('deliveries');
    sim.emitScenario('inbound-sms', 'newer');
    // The receiver answers 500: every attempt of the compressed schedule fails, then it is dead.
    await page.waitForSelector('tr[data-delivery][data-status="dead"]', WAIT);
    await page.click('tr[data-delivery][data-status="dead"] button');
    await page.waitForSelector('#delivery-detail[data-status="dead"] tr[data-attempt="4"]', WAIT);
    const attempts = await textOf('#delivery-detail');
    expect(attempts).toMatch(/500/);
    expect(attempts).toContain('down for maintenance');
    await screenshot(page, 'deliveries-failed');

    receiver.respondWith({ status: 204 });
    const before = receiver.requests.length;
    await page.click('#retry-delivery');
    await page.waitForSelector('#delivery-detail[data-status="succeeded"]', WAIT);
    expect(receiver.requests.length).toBe(before + 1);
    expect(await textOf('#delivery-detail')).toMatch(/204/);
    await page.waitForSelector('tr[data-delivery][data-status="succeeded"]', WAIT);
    expect(await unlabelled()).toEqual([]);
    await screenshot(page, 'deliveries');
  });

  it('edits, disables and enables a subscription, rotates its secret and sends a test event', async () => {
    await go('subscriptions');
    const row = 'tr[data-subscription]';
    const button = async (label: string): Promise<void> => {
      const found = await page.waitForSelector(`${row} ::-p-text(${label})`, WAIT);
      await found!.click();
    };
    await button('Edit');
    await page.waitForFunction(
      () => document.getElementById('sub-form-legend')?.textContent?.startsWith('Edit '),
      WAIT,
    );
    await page.select('select[name="ordering"]', 'per-key');
    await page.$eval('input[name="maxInFlight"]', (el) => (el.value = ''));
    await page.click('form[aria-labelledby="sub-form-legend"] button[type="submit"]');
    await page.waitForFunction(
      (sel: string) =>
        /ordering per-key.*no in-flight cap/s.test(document.querySelector(sel)?.textContent ?? ''),
      WAIT,
      row,
    );

    await button('Disable');
    await page.waitForFunction(
      (sel: string) => document.querySelector(sel)?.textContent?.includes('disabled'),
      WAIT,
      row,
    );
    await button('Enable');
    await page.waitForFunction(
      (sel: string) => document.querySelector(sel)?.textContent?.includes('enabled'),
      WAIT,
      row,
    );
    const [subscription] = (
      await api<{
        data: {
          id: string;
          enabled: boolean;
          ordering: string;
          maxInFlight?: number;
          secretPreview: string;
        }[];
      }>(bridge, 'GET', '/v1/subscriptions')
    ).body.data;
    expect(subscription).toMatchObject({ enabled: true, ordering: 'per-key' });
    expect(subscription.maxInFlight).toBeUndefined();

    await button('Rotate secret');
    await page.waitForFunction(
      () => /^Secret rotated/.test(document.querySelector('.notice-ok')?.textContent ?? ''),
      WAIT,
    );
    const rotated = await textOf('.notice-ok code.secret');
    expect(rotated).toMatch(/^whsec_/);
    const secret = await api<{ secret: string }>(
      bridge,
      'GET',
      `/v1/subscriptions/${subscription.id}/secret`,
    );
    expect(secret.body.secret).toBe(rotated);

    const before = receiver.requests.length;
    await button('Send test event');
    await page.waitForFunction(
      () => /^Test event sent/.test(document.querySelector('.notice-ok')?.textContent ?? ''),
      WAIT,
    );
    await waitFor(
      () => receiver.requests.slice(before).some((r) => r.body.includes('"webhook.test"')),
      20_000,
      'the test event at the receiver',
    );
  });

  it('shows quarantined frames with their raw bytes', async () => {
    sim.emit('this frame is not json');
    await go('quarantine');
    await page.waitForSelector('tr[data-frame]', WAIT);
    await page.click('tr[data-frame] summary');
    expect(await textOf('tr[data-frame]')).toContain('this frame is not json');
    await screenshot(page, 'quarantine');
  });

  it('tails the live stream, with a type filter and pause', async () => {
    await go('tail');
    await page.$eval('input[name="types"]', (el) => (el.value = ''));
    await page.type('input[name="types"]', 'call.*');
    await page.click('form[aria-label="Live tail filter"] button[type="submit"]');
    await page.waitForFunction(
      () => /^Stream live/.test(document.getElementById('tail-state')?.textContent ?? ''),
      WAIT,
    );
    // The stream sends nothing before the key is accepted: give the auth message its round trip.
    await new Promise((resolve) => setTimeout(resolve, 300));
    sim.emitScenario('balance', 'newer');
    sim.emitScenario('inbound-call', 'newer');
    await page.waitForSelector('#tail li[data-type^="call."]', WAIT);
    const types = await page.$$eval('#tail li', (items) =>
      items.map((li) => li.getAttribute('data-type')),
    );
    expect(types.every((t) => t?.startsWith('call.'))).toBe(true);

    const shown = types.length;
    await page.click('#tail-pause');
    sim.emitScenario('inbound-call', 'older');
    await page.waitForFunction(
      () =>
        /^Paused: [1-9]\d* events? held/.test(
          document.getElementById('tail-state')?.textContent ?? '',
        ),
      WAIT,
    );
    expect(await page.$$eval('#tail li', (items) => items.length)).toBe(shown);
    await page.click('#tail-pause');
    await page.waitForFunction(
      (n: number) => document.querySelectorAll('#tail li').length > n,
      WAIT,
      shown,
    );
    await screenshot(page, 'live-tail');
  });

  it('reads on a phone', async () => {
    await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await go('deliveries');
    await page.waitForSelector('tr[data-delivery]', WAIT);
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'deliveries-phone');
    await page.setViewport({ width: 1280, height: 900 });
  });

  it('shows the last hour of deliveries in the status view', async () => {
    // Counts reach Redis every few seconds; here, at once.
    await bridge.app.get(OperationalStatsRepository).flush();
    await go('status');
    await page.waitForFunction(
      () => Number(document.querySelector('#outcome-success dd')?.textContent) >= 2,
      WAIT,
    );
    expect(Number(await textOf('#outcome-dead dd'))).toBeGreaterThanOrEqual(1);
    await screenshot(page, 'status');
  });

  it('signs out when the API refuses the stored key', async () => {
    await page.evaluate(() => {
      sessionStorage.setItem(sessionStorage.key(0)!, 'a-key-that-was-rotated-away-0123456789');
    });
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('input[type="password"]', WAIT);
    await page.waitForSelector('[role="alert"]', WAIT);
    expect(await textOf('[role="alert"]')).toMatch(/Signed out/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('raised no script error and no CSP refusal', () => {
    expect(problems).toEqual([]);
  });
});
