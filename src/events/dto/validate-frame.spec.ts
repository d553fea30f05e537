import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsString, ValidateNested } from 'class-validator';
import { BalanceFrameDto } from './balance-frame.dto';
import { CallFlowPayloadDto } from './call-frame.dto';
import { compileDto } from './compiled-validator';
import { frameProblem, pick } from './validate-frame';

class InnerDto {
  @IsString()
  name!: string;
}

class MiddleDto {
  @ValidateNested()
  @Type(() => InnerDto)
  inner!: InnerDto;
}

class OuterDto {
  @ValidateNested()
  @Type(() => MiddleDto)
  middle!: MiddleDto;
}

/** IS_DEFINED is a type the compiled check does not model: class-validator answers alone. */
class DefinedDto {
  @IsDefined()
  @IsInt({ message: 'count must be an integer' })
  count!: unknown;
}

describe('frameProblem', () => {
  it('passes a valid frame, and names the field and the first constraint of an invalid one', () => {
    expect(frameProblem(BalanceFrameDto, { payload: 12.5 })).toBeUndefined();
    expect(frameProblem(BalanceFrameDto, { payload: 'twelve' })).toBe(
      'payload: balance payload must be a number',
    );
  });

  it('names a nested field by its whole path', () => {
    expect(frameProblem(CallFlowPayloadDto, { call: { uuid: '' } })).toBe(
      'call.uuid: call uuid must be a non-empty string of at most 128 characters',
    );
    expect(frameProblem(OuterDto, { middle: { inner: { name: 5 } } })).toBe(
      'middle.inner.name: name must be a string',
    );
    expect(frameProblem(OuterDto, { middle: { inner: { name: 'x' } } })).toBeUndefined();
  });

  it('asks class-validator when the compiled check does not model the DTO', () => {
    expect(compileDto(DefinedDto)).toBeUndefined();
    expect(frameProblem(DefinedDto, { count: 3 })).toBeUndefined();
    expect(frameProblem(DefinedDto, { count: 'three' })).toBe('count: count must be an integer');
    expect(frameProblem(DefinedDto, {})).toMatch(/^count: count should not be/);
  });
});

describe('pick', () => {
  it('copies only the named keys that are present', () => {
    const source = { a: 1, b: undefined, c: { deep: true }, d: 'not asked for' };
    const picked = pick(source, ['a', 'b', 'c', 'missing']);
    expect(picked).toEqual({ a: 1, c: { deep: true } });
    expect(Object.keys(picked as object)).toEqual(['a', 'c']);
    expect((picked as { c: unknown }).c).toBe(source.c);
  });

  it('leaves what is not an object as it is, for the DTO to name', () => {
    const list = [1, 2];
    expect(pick(list, ['0'])).toBe(list);
    expect(pick(null, ['a'])).toBeNull();
    expect(pick('text', ['length'])).toBe('text');
    expect(pick(undefined, ['a'])).toBeUndefined();
  });
});
