// Read once at start-up; package.json is shipped next to dist/ in the image.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../package.json') as { version: string };

export const SERVICE_VERSION: string = pkg.version;
export const USER_AGENT = `opentact-bridge/${SERVICE_VERSION}`;
