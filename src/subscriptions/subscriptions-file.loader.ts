import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { flattenValidationErrors } from '../api/validation';
import { DeclaredSubscriptionDto } from './dto/declared-subscription.dto';

/** SUBSCRIPTIONS_FILE cannot be used; start-up stops with this. Never carries a secret's value. */
export class SubscriptionsFileError extends Error {
  readonly code = 'SUBSCRIPTIONS_FILE_INVALID';
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`SUBSCRIPTIONS_FILE ${path} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SubscriptionsFileError';
  }
}

type Format = 'json' | 'yaml' | 'either';

function formatOf(path: string): Format {
  const ext = extname(path).toLowerCase();
  return ext === '.json' ? 'json' : ext === '.yaml' || ext === '.yml' ? 'yaml' : 'either';
}

/** Parse errors name the position only: the parsers quote the offending line, which may hold a secret. */
function parse(text: string, path: string, format: Format): unknown {
  if (format !== 'yaml') {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      if (format === 'json') {
        throw new SubscriptionsFileError(path, ['not valid JSON']);
      }
    }
  }
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos
        ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col}: ${error.code})`
        : '';
    throw new SubscriptionsFileError(path, [
      `${format === 'either' ? 'neither JSON nor valid YAML' : 'not valid YAML'}${where}`,
    ]);
  }
}

function entriesOf(document: unknown, path: string): unknown[] {
  if (Array.isArray(document)) {
    return document;
  }
  if (typeof document === 'object' && document !== null && 'subscriptions' in document) {
    const list = document.subscriptions;
    if (Array.isArray(list)) {
      return list;
    }
  }
  throw new SubscriptionsFileError(path, [
    'expected `subscriptions: [ ... ]` at the top level (or a bare list of subscriptions)',
  ]);
}

function label(index: number, entry: unknown): string {
  const id = typeof entry === 'object' && entry !== null && 'id' in entry ? entry.id : undefined;
  return typeof id === 'string'
    ? `subscriptions[${index}] (id ${JSON.stringify(id)})`
    : `subscriptions[${index}]`;
}

/**
 * Reads the operator's declared subscriptions and checks each entry with the same DTO as
 * `POST /v1/subscriptions` (plus an `id`). Every problem in the file is reported at once.
 */
export function parseSubscriptionsFile(text: string, path: string): DeclaredSubscriptionDto[] {
  const entries = entriesOf(parse(text, path, formatOf(path)), path);
  const problems: string[] = [];
  const declared: DeclaredSubscriptionDto[] = [];
  const seen = new Map<string, number>();
  entries.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`${label(index, entry)}: must be an object`);
      return;
    }
    const dto = plainToInstance(DeclaredSubscriptionDto, entry);
    const errors = validateSync(dto, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      validationError: { target: false, value: true },
    });
    for (const { field, problems: list } of flattenValidationErrors(errors)) {
      problems.push(`${label(index, entry)}: ${field}: ${list.join('; ')}`);
    }
    if (typeof dto.id === 'string') {
      const first = seen.get(dto.id);
      if (first !== undefined) {
        problems.push(`${label(index, entry)}: id: already used by subscriptions[${first}]`);
      } else {
        seen.set(dto.id, index);
      }
    }
    declared.push(dto);
  });
  if (problems.length > 0) {
    throw new SubscriptionsFileError(path, problems);
  }
  return declared;
}

@Injectable()
export class SubscriptionsFileLoader {
  async load(path: string): Promise<DeclaredSubscriptionDto[]> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new SubscriptionsFileError(path, [`cannot be read (${code})`]);
    }
    return parseSubscriptionsFile(text, path);
  }
}
