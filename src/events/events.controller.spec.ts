import { InternalServerErrorException, NotFoundException } from '@nestjs/common';
import type { EventLog, LoggedEvent } from './event-log';
import { EventsController } from './events.controller';
import { QuarantineReason } from './normalized-event';
import type { QuarantinedFrame, QuarantineRepository } from './quarantine.repository';

const EVENT = {
  id: '128dff9e-5f28-4a3c-9221-ee2593f71289',
  type: 'call.live',
  occurredAt: '2024-03-01T12:00:00.000Z',
  receivedAt: '2024-03-01T12:00:00.100Z',
  data: { callId: 'c1', state: 'live' },
  raw: { type: 'call_state', payload: { state: 'live' } },
};

const FRAME: QuarantinedFrame = {
  id: 'q1',
  at: '2024-03-01T12:00:00.000Z',
  reason: QuarantineReason.NotJson,
  detail: 'Unexpected token',
  binary: false,
  size: 3,
  truncated: false,
  rawBase64: 'e3t7',
};

function controllerWith(logged: LoggedEvent | undefined) {
  const log = { get: jest.fn(() => Promise.resolve(logged)) };
  const quarantine = {
    list: jest.fn(() => Promise.resolve({ total: 7, items: [FRAME] })),
    counts: jest.fn(() =>
      Promise.resolve({ [QuarantineReason.NotJson]: 5, [QuarantineReason.Binary]: 2 }),
    ),
  };
  const controller = new EventsController(
    log as unknown as EventLog,
    quarantine as unknown as QuarantineRepository,
  );
  return { controller, log, quarantine };
}

describe('EventsController', () => {
  describe('GET /v1/events/:id', () => {
    it('returns the stored webhook body as the event', async () => {
      const { controller, log } = controllerWith({ entryId: '1-0', body: JSON.stringify(EVENT) });
      await expect(controller.getEvent(EVENT.id)).resolves.toEqual(EVENT);
      expect(log.get).toHaveBeenCalledWith(EVENT.id);
    });

    it('answers 404 naming the id for an unknown or expired event', async () => {
      const { controller } = controllerWith(undefined);
      const error = await controller.getEvent('gone-1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundException);
      expect((error as NotFoundException).message).toBe(
        'event gone-1 not found (unknown, or older than the retention window)',
      );
    });

    it('answers 500 for an event stored but unreadable, without its body', async () => {
      const { controller } = controllerWith({
        entryId: '1-0',
        body: '',
        unreadable: 'event body in field z1 cannot be decoded',
      });
      const error = await controller.getEvent('bad-1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InternalServerErrorException);
      expect((error as InternalServerErrorException).message).toBe(
        'event bad-1 is stored but cannot be read',
      );
    });
  });

  describe('GET /v1/quarantine', () => {
    it('returns one page with the total and the counts per reason', async () => {
      const { controller, quarantine } = controllerWith(undefined);
      await expect(controller.listQuarantine({ offset: 20, limit: 10 })).resolves.toEqual({
        total: 7,
        countsByReason: { [QuarantineReason.NotJson]: 5, [QuarantineReason.Binary]: 2 },
        items: [FRAME],
      });
      expect(quarantine.list).toHaveBeenCalledWith(20, 10);
    });
  });
});
