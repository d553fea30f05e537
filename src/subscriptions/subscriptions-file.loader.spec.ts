import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseSubscriptionsFile,
  SubscriptionsFileError,
  SubscriptionsFileLoader,
} from './subscriptions-file.loader';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function errorOf(run: () => unknown): SubscriptionsFileError {
  try {
    run();
  } catch (error) {
    if (error instanceof SubscriptionsFileError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected SubscriptionsFileError');
}

describe('parseSubscriptionsFile', () => {
  it('reads YAML with every field', () => {
    const yaml = `
subscriptions:
  - id: billing
    url: https://hooks.example.com/billing
    eventTypes: [account.*, tn.order_changed]
    description: Billing system
    secret: ${SECRET}
    headers:
      X-Tenant: acme
    filter:
      direction: inbound
      tn: ["15550001111", "15550002222"]
    enabled: false
  - id: calls
    url: http://127.0.0.1:8080/hook
    eventTypes: ["call.*"]
`;
    const entries = parseSubscriptionsFile(yaml, '/etc/otb/subscriptions.yaml');
    expect(entries).toHaveLength(2);
    expect({ ...entries[0], filter: { ...entries[0].filter } }).toEqual({
      id: 'billing',
      url: 'https://hooks.example.com/billing',
      eventTypes: ['account.*', 'tn.order_changed'],
      description: 'Billing system',
      secret: SECRET,
      headers: { 'X-Tenant': 'acme' },
      filter: { direction: 'inbound', tn: ['15550001111', '15550002222'] },
      enabled: false,
    });
    expect(entries[1]).toMatchObject({ id: 'calls', eventTypes: ['call.*'] });
  });

  it('reads JSON, also as a bare list and without a known extension', () => {
    const list = [{ id: 'a', url: 'https://a.example.com/', eventTypes: ['*'] }];
    expect(parseSubscriptionsFile(JSON.stringify({ subscriptions: list }), 's.json')).toHaveLength(
      1,
    );
    expect(parseSubscriptionsFile(JSON.stringify(list), 'subscriptions.conf')[0].id).toBe('a');
    expect(
      parseSubscriptionsFile(
        '- id: b\n  url: https://b.example.com/\n  eventTypes: ["*"]\n',
        'conf',
      )[0].id,
    ).toBe('b');
  });

  it('names the entry index, id and field of every problem', () => {
    const json = JSON.stringify({
      subscriptions: [
        { id: 'ok', url: 'https://a.example.com/', eventTypes: ['*'] },
        { id: 'bad-url', url: 'ftp://a.example.com/', eventTypes: ['*'] },
        { url: 'https://a.example.com/', eventTypes: [] },
        { id: 'ok', url: 'https://a.example.com/', eventTypes: ['*'], enabled: 'false', extra: 1 },
        {
          id: 'nested',
          url: 'https://a.example.com/',
          eventTypes: ['*'],
          filter: { direction: 5, region: 'x' },
        },
      ],
    });
    const error = errorOf(() => parseSubscriptionsFile(json, 'subs.json'));
    const text = error.message;
    expect(text).toContain('subs.json');
    expect(text).toContain('subscriptions[1] (id "bad-url"): url:');
    expect(text).toMatch(/subscriptions\[2\]: id:/);
    expect(text).toMatch(/subscriptions\[2\]: eventTypes:/);
    expect(text).toContain('subscriptions[3] (id "ok"): enabled:');
    expect(text).toContain('subscriptions[3] (id "ok"): extra:');
    expect(text).toContain('subscriptions[3] (id "ok"): id: already used by subscriptions[0]');
    expect(text).toContain('subscriptions[4] (id "nested"): filter.direction:');
    expect(text).toContain('subscriptions[4] (id "nested"): filter.region:');
    expect(text).not.toContain('subscriptions[0] ');
  });

  it('does not quote the file when it cannot be parsed (it may hold secrets)', () => {
    const error = errorOf(() =>
      parseSubscriptionsFile(`subscriptions:\n  - secret: ${SECRET}\n   bad: [`, 'subs.yaml'),
    );
    expect(error.message).toMatch(/not valid YAML \(line \d+, column \d+/);
    expect(error.message).not.toContain(SECRET);
    const json = errorOf(() => parseSubscriptionsFile(`{"secret": "${SECRET}" x}`, 'subs.json'));
    expect(json.message).not.toContain(SECRET);
  });

  it('refuses a document without a list', () => {
    expect(errorOf(() => parseSubscriptionsFile('subscriptions: 3', 's.yaml')).problems[0]).toMatch(
      /subscriptions: \[/,
    );
  });

  it('refuses an invalid secret without echoing it', () => {
    const error = errorOf(() =>
      parseSubscriptionsFile(
        JSON.stringify([{ id: 'a', url: 'https://a.example.com/', eventTypes: ['*'], secret: 42 }]),
        's.json',
      ),
    );
    expect(error.message).toContain('secret:');
  });
});

describe('SubscriptionsFileLoader', () => {
  it('reads a file from disk and reports a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'otb-subs-'));
    try {
      const path = join(dir, 'subs.yml');
      await writeFile(
        path,
        'subscriptions:\n  - id: a\n    url: https://a.example.com/\n    eventTypes: ["*"]\n',
      );
      const loader = new SubscriptionsFileLoader();
      expect((await loader.load(path))[0].id).toBe('a');
      await expect(loader.load(join(dir, 'missing.yml'))).rejects.toThrow(
        /cannot be read \(ENOENT\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
