// @ts-check
'use strict';
/**
 * Which spec file holds which test, as recorded in a mutation run's dry run (one JSON line per
 * test: `{ file, name }`), in the sandbox the run works in.
 */
const path = require('node:path');

const INDEX_FILE = path.join(process.cwd(), '.mutation-test-index.jsonl');

/**
 * A test's full name as Stryker and jest's name filter see it: the titles of its describe
 * blocks, outermost first, then its own, joined by single spaces.
 * @param {{ name: string, parent?: { name: string, parent?: unknown } }} test
 */
function fullTestName(test) {
  /** @type {string[]} */
  const titles = [test.name];
  /** @type {any} */
  let block = test.parent;
  while (block && block.parent) {
    titles.unshift(block.name);
    block = block.parent;
  }
  return titles.join(' ').trim();
}

module.exports = { INDEX_FILE, fullTestName };
