import { IsArray, IsBoolean, IsString, IsUrl, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import {
  createValidationPipe,
  RequestValidationError,
  type ValidationErrorBody,
} from './validation';

class Item {
  @IsString()
  name!: string;
}

class Body {
  @IsUrl()
  url!: string;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Item)
  items!: Item[];
}

class Flag {
  @IsBoolean()
  enabled!: boolean;
}

describe('createValidationPipe', () => {
  it('names each bad field, nested ones by path, and refuses unknown fields', async () => {
    const pipe = createValidationPipe();
    let caught: unknown;
    try {
      await pipe.transform(
        { url: 'nope', items: [{ name: 'a' }, { name: 3, extra: true }], unknown: 1 },
        { type: 'body', metatype: Body },
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RequestValidationError);
    const body = (caught as RequestValidationError).getResponse() as ValidationErrorBody;
    expect(body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      message: 'validation failed',
    });
    expect(body.errors.map((e) => e.field).sort()).toEqual(
      ['items[1].extra', 'items[1].name', 'unknown', 'url'].sort(),
    );
    expect(body.errors.every((e) => e.problems.length > 0)).toBe(true);
  });

  it('does not turn the string "false" into a boolean', async () => {
    const pipe = createValidationPipe();
    await expect(
      pipe.transform({ enabled: 'false' }, { type: 'body', metatype: Flag }),
    ).rejects.toBeInstanceOf(RequestValidationError);
    const out: unknown = await pipe.transform({ enabled: false }, { type: 'body', metatype: Flag });
    expect(out).toEqual(Object.assign(new Flag(), { enabled: false }));
  });
});
