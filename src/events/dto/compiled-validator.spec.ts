import 'reflect-metadata';
import { plainToInstance, Type, type ClassConstructor } from 'class-transformer';
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

/**
 * Random inputs per DTO: 20,000 in the test suite. A mutation run sets fewer (SPEC_FUZZ_INPUTS,
 * stryker.config.mjs), since every surviving mutant of the validator would run all of them: its
 * figure can only be lower for it, never higher.
 */
const RANDOM_INPUTS = Number(process.env.SPEC_FUZZ_INPUTS ?? 20_000);

describe('compiled frame validators', () => {
  it.each(FRAME_DTOS)('%s has a compiled check', (_name, dto) => {
    expect(isCompiled(dto)).toBe(true);
  });

  it.each(FRAME_DTOS)(
    `%s: the compiled check never accepts what class-validator refuses (${RANDOM_INPUTS} random inputs)`,
    (_name, dto) => {
      const check = compileDto(dto)!;
      const next = rng(dto.name.length * 7919);
      const disagreements: string[] = [];
      let certain = 0;
      for (let i = 0; i < RANDOM_INPUTS && disagreements.length < 5; i++) {
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
      expect(certain).toBeGreaterThan(RANDOM_INPUTS * 0.75);
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

describe('compileDto on shapes the frame DTOs do not use', () => {
  const {
    Allow,
    IsDefined,
    IsInt,
    IsString,
    ValidateIf,
    ValidateNested,
    Validate,
    ValidatorConstraint,
  } = classValidator;

  class Inner {
    @IsInt()
    n!: number;
  }
  class Untyped {
    @ValidateNested()
    inner?: unknown;
  }
  class Outer {
    @IsString()
    name!: string;

    @ValidateNested()
    @Type(() => Inner)
    inner?: Inner;

    @ValidateNested()
    @Type(() => Untyped)
    deep?: Untyped;
  }
  class Conditional {
    @Allow()
    kind!: string;

    @ValidateIf((o: { kind?: string }) => o.kind === 'named')
    @IsString()
    name?: string;
  }
  class Undecorated {
    name = '';
  }
  class Each {
    @IsString({ each: true })
    names!: string[];
  }
  class Defined {
    @IsDefined()
    id!: string;
  }
  @ValidatorConstraint({ async: true })
  class Slow {
    validate(): Promise<boolean> {
      return Promise.resolve(true);
    }
  }
  class Async {
    @Validate(Slow)
    id!: string;
  }

  it('compiles a class once and hands out the same check after', () => {
    const first = compileDto(Outer);
    expect(first).toBeDefined();
    expect(compileDto(Outer)).toBe(first);
  });

  it('leaves to class-validator a class without rules, or with each, IsDefined or an async rule', () => {
    expect(isCompiled(Undecorated)).toBe(false);
    expect(isCompiled(Each)).toBe(false);
    expect(isCompiled(Defined)).toBe(false);
    expect(isCompiled(Async)).toBe(false);
    expect(isCompiled(Conditional)).toBe(true);
  });

  it('is unsure of anything but a plain object', () => {
    const check = compileDto(Outer)!;
    for (const value of [null, [], 'x', 5, undefined]) {
      expect(check(value)).toBe('unsure');
    }
  });

  it('applies a rule only where its ValidateIf holds', () => {
    const check = compileDto(Conditional)!;
    expect(check({ kind: 'other', name: 5 })).toBe(true);
    expect(check({ kind: 'named', name: 5 })).toBe(false);
    expect(check({ kind: 'named', name: 'ok' })).toBe(true);
  });

  it('checks a nested object by its @Type, and is unsure where it cannot tell', () => {
    const check = compileDto(Outer)!;
    expect(check({ name: 'a' })).toBe(true);
    expect(check({ name: 'a', inner: { n: 1 } })).toBe(true);
    expect(check({ name: 'a', inner: { n: 'one' } })).toBe(false);
    expect(check({ name: 1, inner: { n: 1 } })).toBe(false);
    // class-validator fails a primitive where an object is nested, and walks an array.
    expect(check({ name: 'a', inner: 7 })).toBe(false);
    expect(check({ name: 'a', inner: [{ n: 1 }] })).toBe('unsure');
    expect(check({ name: 'a', inner: [{ n: 1 }], deep: 7 })).toBe(false);
    // A nested object without @Type: no compiled check for it.
    expect(check({ name: 'a', deep: { inner: {} } })).toBe('unsure');
    expect(check({ name: 'a', deep: { inner: {} }, inner: { n: 'x' } })).toBe(false);
  });
});
