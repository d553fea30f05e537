import { BadRequestException } from '@nestjs/common';
import { RequestValidationError } from '../api/validation';
import { DeliveriesController, SubscriptionDeliveriesController } from './deliveries.controller';
import type { DeliveryAdminService } from './delivery-admin.service';
import { InvalidDeliveryCursorError } from './delivery-record.repository';
import { type DeliveryRecord, DeliveryStatus } from './delivery.model';
import { ListDeliveriesQueryDto, ReplayRequestDto } from './dto/delivery-query.dto';

const NOW = Date.parse('2026-11-28T12:00:00.000Z');

const RECORD: DeliveryRecord = {
  id: 'dlv_1',
  eventId: 'evt_1',
  eventType: 'call.live',
  subscriptionId: 'sub_1',
  status: DeliveryStatus.Dead,
  createdAt: '2026-11-28T09:00:00.000Z',
  updatedAt: '2026-11-28T09:05:00.000Z',
  attemptCount: 3,
};

function adminDouble() {
  return {
    list: jest.fn(() => Promise.resolve({ data: [RECORD], nextCursor: 'next' })),
    get: jest.fn(() => Promise.resolve(RECORD)),
    retry: jest.fn(() => Promise.resolve({ ...RECORD, status: DeliveryStatus.Pending })),
    sendTest: jest.fn(() => Promise.resolve({ eventId: 'test_1', deliveryId: 'd_test_1' })),
    replay: jest.fn(() => Promise.resolve({ replayed: 7 })),
  };
}

function query(over: Partial<ListDeliveriesQueryDto>): ListDeliveriesQueryDto {
  return Object.assign(new ListDeliveriesQueryDto(), over);
}

function replayBody(over: Partial<ReplayRequestDto>): ReplayRequestDto {
  return Object.assign(new ReplayRequestDto(), over);
}

describe('DeliveriesController', () => {
  it('lists with since and until as epoch ms and every other filter as given', async () => {
    const admin = adminDouble();
    const controller = new DeliveriesController(admin as unknown as DeliveryAdminService);
    const page = await controller.list(
      query({
        subscriptionId: 'sub_1',
        status: DeliveryStatus.Failing,
        eventType: 'call.live',
        since: '2026-11-28T00:00:00Z',
        until: '2026-11-28T23:59:59.500Z',
        limit: 20,
        cursor: 'abc',
      }),
    );
    expect(page).toEqual({ data: [RECORD], nextCursor: 'next' });
    expect(admin.list).toHaveBeenCalledWith({
      subscriptionId: 'sub_1',
      status: DeliveryStatus.Failing,
      eventType: 'call.live',
      sinceMs: Date.parse('2026-11-28T00:00:00Z'),
      untilMs: Date.parse('2026-11-28T23:59:59.500Z'),
      limit: 20,
      cursor: 'abc',
    });
  });

  it('leaves an open window open', async () => {
    const admin = adminDouble();
    const controller = new DeliveriesController(admin as unknown as DeliveryAdminService);
    await controller.list(query({}));
    expect(admin.list).toHaveBeenCalledTimes(1);
    const [passed] = admin.list.mock.calls[0] as unknown as [Record<string, unknown>];
    expect(passed.limit).toBe(50);
    expect(passed.sinceMs).toBeUndefined();
    expect(passed.untilMs).toBeUndefined();
    expect(passed).not.toHaveProperty('since');
    expect(passed).not.toHaveProperty('until');
  });

  it('reports a cursor it did not hand out as a 400 on the cursor field', async () => {
    const admin = adminDouble();
    admin.list.mockRejectedValue(new InvalidDeliveryCursorError());
    const controller = new DeliveriesController(admin as unknown as DeliveryAdminService);
    let caught: unknown;
    try {
      await controller.list(query({ cursor: 'forged' }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RequestValidationError);
    expect((caught as RequestValidationError).errors).toEqual([
      {
        field: 'cursor',
        problems: ['cursor is not one returned by a previous page of GET /v1/deliveries'],
      },
    ]);
  });

  it('passes other listing failures through', async () => {
    const admin = adminDouble();
    const failure = new Error('redis down');
    admin.list.mockRejectedValue(failure);
    const controller = new DeliveriesController(admin as unknown as DeliveryAdminService);
    await expect(controller.list(query({}))).rejects.toBe(failure);
  });

  it('gets and retries one delivery by id', async () => {
    const admin = adminDouble();
    const controller = new DeliveriesController(admin as unknown as DeliveryAdminService);
    await expect(controller.get('dlv_1')).resolves.toBe(RECORD);
    expect(admin.get).toHaveBeenCalledWith('dlv_1');
    await expect(controller.retry('dlv_1')).resolves.toEqual({
      ...RECORD,
      status: DeliveryStatus.Pending,
    });
    expect(admin.retry).toHaveBeenCalledWith('dlv_1');
  });
});

describe('SubscriptionDeliveriesController', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('sends a test event to the subscription', async () => {
    const admin = adminDouble();
    const controller = new SubscriptionDeliveriesController(
      admin as unknown as DeliveryAdminService,
    );
    await expect(controller.test('sub_1')).resolves.toEqual({
      eventId: 'test_1',
      deliveryId: 'd_test_1',
    });
    expect(admin.sendTest).toHaveBeenCalledWith('sub_1');
  });

  it('replays the window given, with its scope', async () => {
    const admin = adminDouble();
    const controller = new SubscriptionDeliveriesController(
      admin as unknown as DeliveryAdminService,
    );
    const body = replayBody({
      since: '2026-11-28T00:00:00Z',
      until: '2026-11-28T06:00:00Z',
      scope: 'all',
    });
    await expect(controller.replay('sub_1', body)).resolves.toEqual({ replayed: 7 });
    expect(admin.replay).toHaveBeenCalledWith(
      'sub_1',
      Date.parse('2026-11-28T00:00:00Z'),
      Date.parse('2026-11-28T06:00:00Z'),
      'all',
    );
  });

  it('replays up to now when until is absent, failed deliveries by default', async () => {
    const admin = adminDouble();
    const controller = new SubscriptionDeliveriesController(
      admin as unknown as DeliveryAdminService,
    );
    await controller.replay('sub_1', replayBody({ since: '2026-11-28T00:00:00Z' }));
    expect(admin.replay).toHaveBeenCalledWith(
      'sub_1',
      Date.parse('2026-11-28T00:00:00Z'),
      NOW,
      'failed',
    );
  });

  it('accepts a window of one instant', async () => {
    const admin = adminDouble();
    const controller = new SubscriptionDeliveriesController(
      admin as unknown as DeliveryAdminService,
    );
    const at = '2026-11-28T00:00:00Z';
    await controller.replay('sub_1', replayBody({ since: at, until: at }));
    expect(admin.replay).toHaveBeenCalledWith('sub_1', Date.parse(at), Date.parse(at), 'failed');
  });

  it('refuses a window that ends before it starts, naming the until field', () => {
    const admin = adminDouble();
    const controller = new SubscriptionDeliveriesController(
      admin as unknown as DeliveryAdminService,
    );
    let caught: unknown;
    try {
      void controller.replay(
        'sub_1',
        replayBody({ since: '2026-11-28T00:00:00.001Z', until: '2026-11-28T00:00:00Z' }),
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BadRequestException);
    expect((caught as BadRequestException).getResponse()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'validation failed',
      errors: [{ field: 'until', problems: ['until must not be before since'] }],
    });
    expect(admin.replay).not.toHaveBeenCalled();
  });

  it('refuses a window whose start is after now when until is absent', () => {
    const admin = adminDouble();
    const controller = new SubscriptionDeliveriesController(
      admin as unknown as DeliveryAdminService,
    );
    const since = new Date(NOW + 1).toISOString();
    expect(() => controller.replay('sub_1', replayBody({ since }))).toThrow(BadRequestException);
    expect(admin.replay).not.toHaveBeenCalled();
  });
});
