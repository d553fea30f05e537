// @ts-check
'use strict';
/**
 * The test environment of mutation runs: Node's, plus a record of which spec file holds which
 * test. In the dry run (no active mutant) every test's full name is written, with its file, to
 * the index that `test-index.sequencer.cjs` reads; mutant runs write nothing. Stryker wraps this
 * class with its own coverage mixin, which names tests the same way (describe titles, then the
 * test's, joined by spaces).
 */
const fs = require('node:fs');
const { TestEnvironment } = require('jest-environment-node');
const { INDEX_FILE, fullTestName } = require('./test-index.cjs');

class TestIndexEnvironment extends TestEnvironment {
  /** @type {string} */
  #testPath;
  /** @type {string[]} */
  #names = [];

  /**
   * @param {import('@jest/environment').JestEnvironmentConfig} config
   * @param {import('@jest/environment').EnvironmentContext} context
   */
  constructor(config, context) {
    super(config, context);
    this.#testPath = context.testPath;
  }

  /** @param {import('jest-circus').Event} event */
  handleTestEvent(event) {
    if (event.name === 'test_start' && process.env.__STRYKER_ACTIVE_MUTANT__ === undefined) {
      this.#names.push(fullTestName(event.test));
    }
  }

  async teardown() {
    if (this.#names.length > 0) {
      const lines = this.#names.map((name) => JSON.stringify({ file: this.#testPath, name }));
      fs.appendFileSync(INDEX_FILE, `${lines.join('\n')}\n`);
      this.#names = [];
    }
    await super.teardown();
  }
}

module.exports = TestIndexEnvironment;
