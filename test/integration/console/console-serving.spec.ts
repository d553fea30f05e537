import { deletePrefix, startApp, type StartedApp, uniquePrefix } from '../../support/harness';

/** How /console is served: headers, assets, caching, and its absence from the OpenAPI document. */
describe('GET /console', () => {
  const prefix = uniquePrefix('console-serving');
  let api: StartedApp;

  beforeAll(async () => {
    api = await startApp({ APP_ROLE: 'api', QUEUE_PREFIX: prefix });
  });

  afterAll(async () => {
    await api?.app.close();
    await deletePrefix(prefix);
  });

  it('serves the page with a strict Content-Security-Policy, no inline script or style', async () => {
    const res = await fetch(`${api.url}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
      ]),
    );
    expect(csp).not.toMatch(/unsafe-|https?:/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts).toEqual([expect.stringMatching(/src="\/console\/assets\/console\.js\?v=/)]);
    expect(html).not.toMatch(/<style|\sstyle=|\son\w+=/);
    expect(html).toMatch(/href="\/console\/assets\/console\.css\?v=/);
  });

  it('serves the bundle with its type, an ETag, and 304 when unchanged', async () => {
    for (const [name, type] of [
      ['console.js', 'text/javascript'],
      ['console.css', 'text/css'],
    ]) {
      const res = await fetch(`${api.url}/console/assets/${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      const etag = res.headers.get('etag')!;
      expect(etag).toMatch(/^"[\w-]+"$/);
      const again = await fetch(`${api.url}/console/assets/${name}`, {
        headers: { 'if-none-match': etag },
      });
      expect(again.status).toBe(304);
    }
    expect((await fetch(`${api.url}/console/assets/secrets.env`)).status).toBe(404);
    expect((await fetch(`${api.url}/console/assets/..%2Fconsole.module.js`)).status).toBe(404);
  });

  it('is left out of the OpenAPI document', async () => {
    const doc = (await (await fetch(`${api.url}/docs-json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
    expect(Object.keys(doc.paths)).toContain('/v1/status');
  });
});
