import { KNOWN_EVENT_TYPES } from '../events/event-type.enum';
import { MetricsService } from './metrics.service';

async function sample(metrics: MetricsService, name: string, labels: string): Promise<string> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? 'absent' : line.slice(line.lastIndexOf(' ') + 1);
}

describe('MetricsService', () => {
  it.each([
    ['otb_frames_received_total', 'frame_type="call_state"'],
    ['otb_frames_received_total', 'frame_type="sms"'],
    ['otb_frames_received_total', 'frame_type="other"'],
    ['otb_frames_received_total', 'frame_type="invalid"'],
    ['otb_events_enqueued_total', 'event_type="opentact.other"'],
    ['otb_frames_quarantined_total', 'reason="not_json"'],
    ['otb_deliveries_total', 'outcome="success",status_class="2xx"'],
    ['otb_deliveries_total', 'outcome="retry",status_class="5xx"'],
    ['otb_deliveries_total', 'outcome="dead",status_class="none"'],
    ['otb_deliveries_total', 'outcome="disabled",status_class="4xx"'],
    ['otb_deliveries_total', 'outcome="skipped",status_class="none"'],
    ['otb_subscriptions_disabled_total', 'reason="failing"'],
    ['otb_stream_closed_total', 'reason="slow"'],
  ])('exports %s{%s} as 0 before anything happened', async (name, labels) => {
    expect(await sample(new MetricsService(), name, labels)).toBe('0');
  });

  it('starts every known event type at 0 and counts from there', async () => {
    const metrics = new MetricsService();
    for (const type of KNOWN_EVENT_TYPES) {
      expect(await sample(metrics, 'otb_events_enqueued_total', `event_type="${type}"`)).toBe('0');
    }
    metrics.deliveries.inc({ outcome: 'success', status_class: '2xx' });
    expect(
      await sample(metrics, 'otb_deliveries_total', 'outcome="success",status_class="2xx"'),
    ).toBe('1');
  });
});
