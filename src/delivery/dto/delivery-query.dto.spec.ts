import type { ArgumentMetadata } from '@nestjs/common';
import { createValidationPipe, RequestValidationError } from '../../api/validation';
import { DeliveryStatus } from '../delivery.model';
import { ListDeliveriesQueryDto, ReplayRequestDto } from './delivery-query.dto';

const LIST: ArgumentMetadata = { type: 'query', metatype: ListDeliveriesQueryDto };
const REPLAY: ArgumentMetadata = { type: 'body', metatype: ReplayRequestDto };

/** The fields the global pipe refuses, or [] when it accepts the input. */
async function refusedFields(value: unknown, metadata: ArgumentMetadata): Promise<string[]> {
  try {
    await createValidationPipe().transform(value, metadata);
    return [];
  } catch (error) {
    if (!(error instanceof RequestValidationError)) {
      throw error;
    }
    return error.errors.map((e) => e.field);
  }
}

describe('ListDeliveriesQueryDto through the validation pipe', () => {
  it('takes an empty query as the first 50 of everything', async () => {
    const out = (await createValidationPipe().transform({}, LIST)) as ListDeliveriesQueryDto;
    expect(out).toBeInstanceOf(ListDeliveriesQueryDto);
    expect(out.limit).toBe(50);
    expect(out.since).toBeUndefined();
    expect(out.cursor).toBeUndefined();
  });

  it('takes every filter, with limit read from its query-string digits', async () => {
    const out = (await createValidationPipe().transform(
      {
        subscriptionId: 'sub_1',
        status: 'dead',
        eventType: 'call.live',
        since: '2026-11-28T00:00:00Z',
        until: '2026-11-28T23:59:59.999+01:00',
        limit: '100',
        cursor: 'WyIxIiwiYSJd',
      },
      LIST,
    )) as ListDeliveriesQueryDto;
    expect(out).toMatchObject({
      subscriptionId: 'sub_1',
      status: DeliveryStatus.Dead,
      eventType: 'call.live',
      since: '2026-11-28T00:00:00Z',
      until: '2026-11-28T23:59:59.999+01:00',
      limit: 100,
      cursor: 'WyIxIiwiYSJd',
    });
  });

  it.each([
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: '1e2' }, 'limit'],
    [{ limit: '2.5' }, 'limit'],
    [{ status: 'lost' }, 'status'],
    [{ since: 'yesterday' }, 'since'],
    [{ since: '2026-W01' }, 'since'],
    [{ until: '2026-11-28' + 'T25:00:00Z' }, 'until'],
    [{ subscriptionId: 's'.repeat(201) }, 'subscriptionId'],
    [{ eventType: 't'.repeat(201) }, 'eventType'],
    [{ cursor: 'c'.repeat(501) }, 'cursor'],
    [{ subscription: 'sub_1' }, 'subscription'],
  ])('refuses %j on %s', async (input, field) => {
    await expect(refusedFields(input, LIST)).resolves.toEqual([field]);
  });

  it('accepts the longest ids and cursors', async () => {
    await expect(
      refusedFields(
        { subscriptionId: 's'.repeat(200), eventType: 't'.repeat(200), cursor: 'c'.repeat(500) },
        LIST,
      ),
    ).resolves.toEqual([]);
  });
});

describe('ReplayRequestDto through the validation pipe', () => {
  it('replays failed deliveries when no scope is given', async () => {
    const out = (await createValidationPipe().transform(
      { since: '2026-11-28T00:00:00Z' },
      REPLAY,
    )) as ReplayRequestDto;
    expect(out).toBeInstanceOf(ReplayRequestDto);
    expect(out.scope).toBe('failed');
    expect(out.until).toBeUndefined();
  });

  it('takes both scopes and an explicit end', async () => {
    for (const scope of ['failed', 'all']) {
      const out = (await createValidationPipe().transform(
        { since: '2026-11-28T00:00:00Z', until: '2026-11-28T12:00:00Z', scope },
        REPLAY,
      )) as ReplayRequestDto;
      expect(out.scope).toBe(scope);
      expect(out.until).toBe('2026-11-28T12:00:00Z');
    }
  });

  it.each([
    [{}, 'since'],
    [{ since: 1764288000000 }, 'since'],
    [{ since: '2026-11-28T00:00:00Z', until: 'now' }, 'until'],
    [{ since: '2026-11-28T00:00:00Z', scope: 'dead' }, 'scope'],
    [{ since: '2026-11-28T00:00:00Z', subscriptionId: 'sub_1' }, 'subscriptionId'],
  ])('refuses %j on %s', async (input, field) => {
    await expect(refusedFields(input, REPLAY)).resolves.toEqual([field]);
  });
});
