import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { knownEnvVars, loadConfig } from '../../src/config/app-config';
import { EnvironmentVariables, SECRET_ENV_VARS } from '../../src/config/env.schema';

/**
 * `.env.example` documents every variable the service reads. A variable line is `NAME=value`
 * (to be filled in) or `# NAME=default` (the built-in default, shown commented out so a copied
 * .env never pins a default); the comment lines directly above explain it.
 */

interface Entry {
  name: string;
  value: string;
  commentedOut: boolean;
  /** The explanatory comment lines directly above, without the leading "# ". */
  comment: string[];
  line: number;
}

const VARIABLE_LINE = /^(#\s?)?([A-Z][A-Z0-9_]*)=(.*)$/;

function parseEnvExample(text: string): Entry[] {
  const lines = text.split('\n');
  const entries: Entry[] = [];
  lines.forEach((line, index) => {
    const match = VARIABLE_LINE.exec(line);
    if (!match) {
      return;
    }
    const comment: string[] = [];
    for (let i = index - 1; i >= 0; i--) {
      const above = lines[i];
      if (!above.startsWith('#') || VARIABLE_LINE.test(above)) {
        break;
      }
      comment.unshift(above.replace(/^#\s?/, ''));
    }
    entries.push({
      name: match[2],
      value: match[3],
      commentedOut: match[1] !== undefined,
      comment,
      line: index + 1,
    });
  });
  return entries;
}

const text = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
const entries = parseEnvExample(text);
const byName = new Map(entries.map((e) => [e.name, e]));
const defaults = new EnvironmentVariables() as unknown as Record<string, unknown>;
const hasDefault = (name: string): boolean => defaults[name] !== undefined;

describe('.env.example', () => {
  it('lists every variable the service reads, once, and nothing else', () => {
    const names = entries.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(knownEnvVars());
  });

  it('explains each variable in a comment directly above it, naming the roles that read it', () => {
    for (const entry of entries) {
      const explanation = entry.comment.join(' ');
      expect({ name: entry.name, commented: entry.comment.length > 0 }).toEqual({
        name: entry.name,
        commented: true,
      });
      expect({
        name: entry.name,
        readBy: /Read by: (every role|ingest|worker|api)/.test(explanation),
      }).toEqual({
        name: entry.name,
        readBy: true,
      });
    }
  });

  it('shows each built-in default commented out, exactly as the schema has it', () => {
    for (const entry of entries.filter((e) => hasDefault(e.name))) {
      expect({ name: entry.name, value: entry.value, commentedOut: entry.commentedOut }).toEqual({
        name: entry.name,
        value: String(defaults[entry.name]),
        commentedOut: true,
      });
    }
  });

  it('leaves variables without a default empty, and marks and empties every secret', () => {
    for (const entry of entries.filter((e) => !hasDefault(e.name))) {
      expect({ name: entry.name, value: entry.value }).toEqual({ name: entry.name, value: '' });
    }
    for (const name of SECRET_ENV_VARS) {
      const entry = byName.get(name)!;
      expect({ name, secret: entry.comment.join(' ').includes('SECRET') }).toEqual({
        name,
        secret: true,
      });
      if (entry.commentedOut) {
        // REDIS_URL shows its (password-free) default; every other secret is an empty field.
        expect(entry.value).toBe(String(defaults[name]));
      } else {
        expect(entry.value).toBe('');
      }
    }
  });

  it('uncommented, it configures the service exactly as the defaults do', () => {
    const credentials = { OPENTACT_TOKEN: 'aaa.bbb.ccc', ADMIN_API_KEY: 'k'.repeat(32) };
    const env: Record<string, string> = { ...credentials };
    for (const entry of entries) {
      if (entry.value !== '') {
        env[entry.name] = entry.value;
      }
    }
    expect(Object.keys(env).length).toBeGreaterThan(30);
    expect(loadConfig(env)).toEqual(loadConfig(credentials));
  });
});
