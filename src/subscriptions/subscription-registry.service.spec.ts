import pino from 'pino';
import { EventType } from '../events/event-type.enum';
import { Clock } from '../common/clock';
import {
  type ChangeSource,
  type SnapshotSource,
  SubscriptionRegistry,
} from './subscription-registry.service';
import type { Subscription } from './subscription.model';
import type { SubscriptionsSnapshot } from './subscriptions.repository';

class FakeClock extends Clock {
  t = 1_000_000;
  now(): Date {
    return new Date(this.t);
  }
}

function sub(id: string, eventTypes: string[], enabled = true): Subscription {
  return {
    id,
    url: `https://hooks.example.com/${id}`,
    eventTypes,
    secrets: [{ secret: 'whsec_x', createdAt: '2026-01-01T00:00:00.000Z' }],
    headers: {},
    enabled,
    source: 'api',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
}

class FakeSource implements SnapshotSource, ChangeSource {
  current: SubscriptionsSnapshot = { version: '1', subscriptions: [] };
  snapshots = 0;
  versions = 0;
  notify: () => void = () => undefined;
  closed = false;

  watchChanges(onChange: () => void) {
    this.notify = onChange;
    return Promise.resolve({
      close: () => {
        this.closed = true;
        return Promise.resolve();
      },
    });
  }
  snapshot(): Promise<SubscriptionsSnapshot> {
    this.snapshots++;
    return Promise.resolve(this.current);
  }
  version(): Promise<string> {
    this.versions++;
    return Promise.resolve(this.current.version);
  }
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const call = { type: EventType.CallLive, data: { direction: 'inbound' as const } };

async function setup() {
  const source = new FakeSource();
  source.current = {
    version: '1',
    subscriptions: [sub('calls', ['call.*']), sub('off', ['*'], false), sub('sms', ['sms.*'])],
  };
  const clock = new FakeClock();
  const registry = new SubscriptionRegistry(source, source, clock, pino({ level: 'silent' }));
  registry.onModuleInit();
  // Start-up loads in the background (it must not wait for Redis); let that load land.
  await registry.getEnabled();
  return { source, clock, registry };
}

describe('SubscriptionRegistry', () => {
  it('holds the enabled subscriptions and matches without touching Redis', async () => {
    const { source, registry } = await setup();
    expect((await registry.getEnabled()).map((s) => s.id)).toEqual(['calls', 'sms']);
    const before = { snapshots: source.snapshots, versions: source.versions };
    for (let i = 0; i < 1000; i++) {
      expect(registry.matching(call).map((s) => s.id)).toEqual(['calls']);
      await registry.getEnabled();
    }
    await flush();
    expect({ snapshots: source.snapshots, versions: source.versions }).toEqual(before);
  });

  it('reloads on a change message', async () => {
    const { source, registry } = await setup();
    source.current = { version: '2', subscriptions: [sub('all', ['*'])] };
    source.notify();
    await flush();
    expect(registry.matching(call).map((s) => s.id)).toEqual(['all']);
  });

  it('falls back to the version key at most once a second', async () => {
    const { source, clock, registry } = await setup();
    source.current = { version: '2', subscriptions: [] }; // changed, message lost
    clock.t += 999;
    expect((await registry.getEnabled()).map((s) => s.id)).toEqual(['calls', 'sms']);
    expect(source.versions).toBe(0);
    clock.t += 1;
    expect(await registry.getEnabled()).toEqual([]);
    expect(source.versions).toBe(1);
  });

  it('coalesces a burst of change messages', async () => {
    const { source, registry } = await setup();
    const loads = source.snapshots;
    for (let i = 0; i < 50; i++) {
      source.notify();
    }
    await registry.getEnabled();
    await flush();
    expect(source.snapshots - loads).toBeLessThanOrEqual(2);
  });

  it('closes its feed on shutdown', async () => {
    const { source, registry } = await setup();
    await registry.onModuleDestroy();
    expect(source.closed).toBe(true);
  });
});
