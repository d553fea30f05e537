import type { ClassConstructor } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';

/**
 * `true`: the value certainly passes the DTO's validation. `false`: it certainly does not.
 * `unsure`: a shape this compiler does not model (arrays in nested slots, nested objects without
 * @Type): the caller asks class-validator.
 */
export type CompiledVerdict = boolean | 'unsure';
export type CompiledCheck = (value: unknown) => CompiledVerdict;

/** A DTO class, as class-validator and class-transformer key their metadata. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- the libraries' own key type
type DtoClass = Function;

interface ConstraintInstance {
  validate(value: unknown, args?: ValidationArguments): unknown;
}

interface PropertyPlan {
  property: string;
  conditions: ((object: unknown, value: unknown) => boolean)[];
  constraints: { instance: ConstraintInstance; metadata: { constraints: unknown[] } }[];
  nested?: () => CompiledCheck | undefined;
}

const compiled = new Map<DtoClass, CompiledCheck | null>();

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A check compiled once per DTO class from the same class-validator (and class-transformer @Type)
 * metadata the DTO declares, calling the same constraint functions, without instantiating the DTO
 * or building error objects: the hot path validates every frame, and almost every frame is
 * valid. It only answers valid or not; a caller that needs the message runs class-validator.
 *
 * Returns undefined for a DTO using a validation type it does not model (IS_DEFINED, promises,
 * `each`): that DTO is always validated by class-validator itself.
 */
export function compileDto(dto: DtoClass): CompiledCheck | undefined {
  if (compiled.has(dto)) {
    return compiled.get(dto) ?? undefined;
  }
  // Guard against recursion while compiling (a DTO nesting itself).
  compiled.set(dto, null);
  const check = build(dto);
  compiled.set(dto, check ?? null);
  return check;
}

function build(dto: DtoClass): CompiledCheck | undefined {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(dto, '', false, false);
  if (metadatas.length === 0) {
    return undefined;
  }
  const plans: PropertyPlan[] = [];
  const grouped = storage.groupByPropertyName(metadatas);
  for (const property of Object.keys(grouped)) {
    const plan: PropertyPlan = { property, conditions: [], constraints: [] };
    for (const metadata of grouped[property]) {
      if (metadata.each || metadata.validateIf) {
        return undefined;
      }
      switch (metadata.type) {
        case ValidationTypes.CONDITIONAL_VALIDATION:
          plan.conditions.push(metadata.constraints[0] as PropertyPlan['conditions'][number]);
          break;
        case ValidationTypes.CUSTOM_VALIDATION:
          for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
            if (constraint.async) {
              return undefined;
            }
            plan.constraints.push({
              instance: constraint.instance,
              metadata: { constraints: metadata.constraints },
            });
          }
          break;
        case ValidationTypes.NESTED_VALIDATION: {
          const type = defaultMetadataStorage.findTypeMetadata(dto, property);
          const target = type?.typeFunction() as DtoClass | undefined;
          plan.nested = () => (target === undefined ? undefined : compileDto(target));
          break;
        }
        case ValidationTypes.WHITELIST:
          break;
        default:
          return undefined;
      }
    }
    plans.push(plan);
  }
  return (value: unknown) => checkObject(dto, plans, value);
}

function checkObject(dto: DtoClass, plans: PropertyPlan[], value: unknown): CompiledVerdict {
  if (!isPlainRecord(value)) {
    return 'unsure';
  }
  let verdict: CompiledVerdict = true;
  for (const plan of plans) {
    const property = value[plan.property];
    if (!plan.conditions.every((condition) => condition(value, property))) {
      continue;
    }
    const args: ValidationArguments = {
      targetName: dto.name,
      property: plan.property,
      object: value,
      value: property,
      constraints: [],
    };
    for (const { instance, metadata } of plan.constraints) {
      args.constraints = metadata.constraints;
      if (!instance.validate(property, args)) {
        return false;
      }
    }
    if (plan.nested && property !== undefined) {
      if (!isPlainRecord(property)) {
        // A primitive fails class-validator's nested check; an array it walks element by element.
        if (Array.isArray(property)) {
          verdict = 'unsure';
          continue;
        }
        return false;
      }
      const nested = plan.nested();
      const inner = nested === undefined ? 'unsure' : nested(property);
      if (inner === false) {
        return false;
      }
      if (inner === 'unsure') {
        verdict = 'unsure';
      }
    }
  }
  return verdict;
}

/** For tests: whether a DTO has a compiled check (false: always validated by class-validator). */
export function isCompiled<T extends object>(dto: ClassConstructor<T>): boolean {
  return compileDto(dto) !== undefined;
}
