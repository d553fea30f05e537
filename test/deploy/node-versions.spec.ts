import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { satisfies, validRange } from 'semver';
import { ROOT } from './chart-render';

/**
 * The image runs Node 20, the major CI tests; the code must also run on Node 22 and 24. Every
 * package the production image installs declares the Node versions it supports: none may rule
 * one of these out.
 */

/** The oldest release of each major the README promises. */
const SUPPORTED = ['20.18.1', '22.0.0', '24.0.0'];

interface LockedPackage {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  engines?: Record<string, string> | string[];
}

const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockedPackage>;
};
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
};

/** Packages `npm ci --omit=dev` installs, with their engines.node range. */
function productionEngines(): { name: string; node: string }[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.dev !== true)
    .flatMap(([path, entry]) => {
      const engines = entry.engines;
      const node = engines && !Array.isArray(engines) ? engines.node : undefined;
      return node === undefined
        ? []
        : [{ name: `${path.replace(/^.*node_modules\//, '')}@${entry.version ?? '?'}`, node }];
    });
}

describe('Node versions', () => {
  it('the package admits every supported major, and the oldest 20 is the one it names', () => {
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    for (const version of SUPPORTED) {
      expect({ version, ok: satisfies(version, pkg.engines.node) }).toEqual({ version, ok: true });
    }
    expect(satisfies('20.18.0', pkg.engines.node)).toBe(false);
  });

  it('no production dependency rules out Node 20.18.1, 22 or 24', () => {
    const declared = productionEngines();
    expect(declared.length).toBeGreaterThan(20);
    const refused = declared.flatMap(({ name, node }) => {
      if (validRange(node) === null) {
        return [`${name}: engines.node ${node} is not a range`];
      }
      return SUPPORTED.filter((v) => !satisfies(v, node)).map(
        (v) => `${name} (${node}) refuses ${v}`,
      );
    });
    expect(refused).toEqual([]);
  });

  it('the check refuses a package that needs a later Node', () => {
    expect(SUPPORTED.filter((v) => !satisfies(v, '>=22'))).toEqual(['20.18.1']);
    expect(SUPPORTED.filter((v) => !satisfies(v, '^20.19.0 || ^22.13.0 || >=24'))).toEqual([
      '20.18.1',
      '22.0.0',
    ]);
  });
});
