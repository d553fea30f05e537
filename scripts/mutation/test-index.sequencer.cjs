// @ts-check
'use strict';
/**
 * Jest's sequencer for mutation runs, which also leaves out spec files that hold no test the
 * mutant needs. Stryker runs a mutant with a name filter (the tests that reached it) over every
 * spec file related to the mutated file, and jest loads each of those files whole, imports
 * included, even when the filter matches nothing in it: that loading was most of what a mutant
 * cost. With the dry run's index of which file holds which test, only the files holding a test
 * the filter names are run. A file the index does not know is always run, so the filter can only
 * save time, never skip a test that would have run.
 */
const fs = require('node:fs');
const Sequencer = require('@jest/test-sequencer').default;
const { INDEX_FILE } = require('./test-index.cjs');

/** @type {{ size: number, byFile: Map<string, string[]> } | undefined} */
let cached;

/** The index as last read, reread when the file has grown. */
function readIndex() {
  let size;
  try {
    size = fs.statSync(INDEX_FILE).size;
  } catch {
    return new Map();
  }
  if (!cached || cached.size !== size) {
    /** @type {Map<string, string[]>} */
    const byFile = new Map();
    for (const line of fs.readFileSync(INDEX_FILE, 'utf8').split('\n')) {
      if (line === '') {
        continue;
      }
      const { file, name } = JSON.parse(line);
      const names = byFile.get(file) ?? [];
      names.push(name);
      byFile.set(file, names);
    }
    cached = { size, byFile };
  }
  return cached.byFile;
}

class TestIndexSequencer extends Sequencer {
  /** @type {string | undefined} */
  #namePattern;

  /** @param {import('@jest/test-sequencer').TestSequencerOptions} options */
  constructor(options) {
    super(options);
    this.#namePattern = options.globalConfig.testNamePattern ?? undefined;
  }

  /** @param {import('@jest/test-result').Test[]} tests */
  sort(tests) {
    const sorted = super.sort(tests);
    if (!this.#namePattern) {
      return sorted;
    }
    const filter = new RegExp(this.#namePattern, 'i');
    const byFile = readIndex();
    const needed = sorted.filter((test) => {
      const names = byFile.get(test.path);
      return names === undefined || names.some((name) => filter.test(name));
    });
    // No file at all would be a jest run with no tests, which fails: run them all instead.
    return needed.length > 0 ? needed : sorted;
  }
}

module.exports = TestIndexSequencer;
