import type { DeliveryQueue } from '../queue/delivery-queue';
import type { DeliveryLanes } from './delivery-lanes';
import { DeliveryTurns } from './delivery-turns';

function setUp(lane: { next?: string; first?: boolean } = {}) {
  const lanes = {
    finish: jest.fn(() => Promise.resolve(lane.next)),
    isFirst: jest.fn(() => Promise.resolve(lane.first ?? false)),
  };
  const queue = { promote: jest.fn(() => Promise.resolve()) };
  const turns = new DeliveryTurns(
    lanes as unknown as DeliveryLanes,
    queue as unknown as DeliveryQueue,
  );
  return { turns, lanes, queue };
}

describe('DeliveryTurns.end', () => {
  it('takes the delivery out of its lane and starts the one now first', async () => {
    const { turns, lanes, queue } = setUp({ next: 'dlv_2' });
    await turns.end('sub_1', { key: 'call-7' }, 'dlv_1');
    expect(lanes.finish).toHaveBeenCalledWith('sub_1', 'call-7', 'dlv_1');
    expect(queue.promote).toHaveBeenCalledWith('dlv_2');
  });

  it('starts nothing when the lane is now empty', async () => {
    const { turns, lanes, queue } = setUp({ next: undefined });
    await turns.end('sub_1', { key: 'call-7' }, 'dlv_1');
    expect(lanes.finish).toHaveBeenCalledTimes(1);
    expect(queue.promote).not.toHaveBeenCalled();
  });

  it('does nothing for a delivery that has no lane', async () => {
    const { turns, lanes, queue } = setUp({ next: 'dlv_2' });
    await turns.end('sub_1', undefined, 'dlv_1');
    expect(lanes.finish).not.toHaveBeenCalled();
    expect(queue.promote).not.toHaveBeenCalled();
  });
});

describe('DeliveryTurns.wakeIfFirst', () => {
  it('starts a parked delivery that has become first', async () => {
    const { turns, lanes, queue } = setUp({ first: true });
    await turns.wakeIfFirst('sub_1', 'call-7', 'dlv_2');
    expect(lanes.isFirst).toHaveBeenCalledWith('sub_1', 'call-7', 'dlv_2');
    expect(queue.promote).toHaveBeenCalledWith('dlv_2');
  });

  it('leaves a delivery parked while another is still ahead of it', async () => {
    const { turns, queue } = setUp({ first: false });
    await turns.wakeIfFirst('sub_1', 'call-7', 'dlv_2');
    expect(queue.promote).not.toHaveBeenCalled();
  });
});
