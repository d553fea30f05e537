import 'reflect-metadata';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import * as classValidator from 'class-validator';
import { ALL_FRAMES } from '../../../test/fixtures/opentact-frames';
import type { AppConfig } from '../../config/app-config';
import { EventNormalizer } from '../event-normalizer.service';
import { BalanceFrameDto } from './balance-frame.dto';
import { CallFlowFrameDto, CallStateFrameDto } from './call-frame.dto';
import { CallRecordFrameDto } from './call-record-frame.dto';
import { compileDto, isCompiled } from './compiled-validator';
import { EnvelopeDto } from './envelope.dto';
import { SmsFrameDto } from './sms-frame.dto';
import { TnOrderFrameDto } from './tn-order-frame.dto';
import { TranscriptFrameDto } from './transcript-frame.dto';

const FRAME_DTOS: [string, ClassConstructor<object>][] = [
  ['EnvelopeDto', EnvelopeDto],
  ['CallStateFrameDto', CallStateFrameDto],
  ['CallFlowFrameDto', CallFlowFrameDto],
  ['SmsFrameDto', SmsFrameDto],
  ['BalanceFrameDto', BalanceFrameDto],
  ['TnOrderFrameDto', TnOrderFrameDto],
  ['CallRecordFrameDto', CallRecordFrameDto],
  ['TranscriptFrameDto', TranscriptFrameDto],
];

/** A small seeded generator, so a failure names an input that can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const KEYS = [
  'uuid',
  'state',
  'call',
  'payload',
  'call_flow',
  'command',
  'balance',
  'amount',
  'type',
  'message',
  'created_on',
  'timestamp',
  'id',
  'tn',
  'direction',
  'text',
  'duration',
  'success',
];

function value(next: () => number, depth: number): unknown {
  const r = next();
  if (r < 0.1) return undefined;
  if (r < 0.18) return null;
  if (r < 0.33) return ['', 'live', 'ringing', 'x'.repeat(200), 'Answer'][Math.floor(next() * 5)];
  if (r < 0.45) return [0, 1, -1, 1.5, 1e12, Number.NaN][Math.floor(next() * 6)];
  if (r < 0.5) return next() < 0.5;
  if (r < 0.6) return depth > 2 ? [] : [value(next, depth + 1), value(next, depth + 1)];
  return depth > 3 ? {} : record(next, depth + 1);
}

function record(next: () => number, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const count = Math.floor(next() * 5);
  for (let i = 0; i < count; i++) {
    const key = KEYS[Math.floor(next() * KEYS.length)];
    const v = value(next, depth);
    if (v !== undefined) {
      out[key] = v;
    }
  }
  return out;
}

function classValidatorAccepts(dto: ClassConstructor<object>, slots: unknown): boolean {
  return (
    classValidator.validateSync(plainToInstance(dto, slots), {
      stopAtFirstError: true,
      forbidUnknownValues: true,
    }).length === 0
  );
}

describe('compiled frame validators', () => {
  it.each(FRAME_DTOS)('%s has a compiled check', (_name, dto) => {
    expect(isCompiled(dto)).toBe(true);
  });

  it.each(FRAME_DTOS)(
    '%s: the compiled check never accepts what class-validator refuses (20,000 random inputs)',
    (_name, dto) => {
      const check = compileDto(dto)!;
      const next = rng(dto.name.length * 7919);
      const disagreements: string[] = [];
      let certain = 0;
      for (let i = 0; i < 20_000 && disagreements.length < 5; i++) {
        const slots = record(next, 0);
        const verdict = check(slots);
        if (verdict === 'unsure') {
          continue;
        }
        certain++;
        if (verdict !== classValidatorAccepts(dto, slots)) {
          disagreements.push(`${JSON.stringify(slots)}: compiled ${verdict}`);
        }
      }
      expect(disagreements).toEqual([]);
      // Most inputs get a definite answer: the check is not "unsure" about everything.
      expect(certain).toBeGreaterThan(15_000);
    },
  );

  it('lets every reference frame through without running class-validator', () => {
    const normalizer = new EventNormalizer({
      opentact: { maxFrameBytes: 1024 * 1024 },
    } as AppConfig);
    const spy = jest.spyOn(classValidator, 'validateSync');
    try {
      for (const fixture of ALL_FRAMES) {
        const outcome = normalizer.normalize(JSON.stringify(fixture.frame), false, new Date());
        expect({ name: fixture.name, kind: outcome.kind }).not.toEqual({
          name: fixture.name,
          kind: 'quarantine',
        });
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
