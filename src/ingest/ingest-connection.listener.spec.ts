import pino from 'pino';
import type { EventLog } from '../events/event-log';
import type { EventNormalizer } from '../events/event-normalizer.service';
import { QuarantineReason } from '../events/normalized-event';
import type { QuarantineInput, QuarantineRepository } from '../events/quarantine.repository';
import { MetricsService } from '../metrics/metrics.service';
import { EventIngestor } from './event-ingestor.service';
import { IngestConnectionListener } from './ingest-connection.listener';

describe('IngestConnectionListener', () => {
  it('leaves a quarantine entry for a frame the socket could not read at all', async () => {
    const added: QuarantineInput[] = [];
    const quarantine = {
      add: (input: QuarantineInput) => {
        added.push(input);
        return Promise.resolve({ id: 'q1', size: input.size ?? input.data.length });
      },
    } as unknown as QuarantineRepository;
    const metrics = new MetricsService();
    const ingestor = new EventIngestor(
      {} as EventNormalizer,
      {} as EventLog,
      quarantine,
      metrics,
      pino({ level: 'silent' }),
    );
    const listener = new IngestConnectionListener(metrics, ingestor);

    listener.onOversizeFrame(16 * 1024 * 1024);
    await new Promise((resolve) => setImmediate(resolve));

    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      reason: QuarantineReason.TooLarge,
      size: 16 * 1024 * 1024 + 1,
    });
    expect(added[0].data.length).toBe(0);
    expect(added[0].detail).toMatch(/16777216 bytes/);
    const quarantined = await metrics.framesQuarantined.get();
    expect(quarantined.values.filter((v) => v.value > 0)).toEqual([
      expect.objectContaining({ labels: { reason: 'too_large' }, value: 1 }),
    ]);
  });
});
