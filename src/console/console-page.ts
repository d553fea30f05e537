/**
 * The console's HTML shell and the headers of every console response. The page holds no inline
 * script or style: everything it runs comes from the bundle under /console/assets/, which the
 * Content-Security-Policy below is the only source it allows.
 */

export const CONSOLE_PATH = '/console';
export const CONSOLE_ASSETS_PATH = `${CONSOLE_PATH}/assets`;

/**
 * `connect-src 'self'` covers the admin API and, in the browsers we test, the same-origin
 * WebSocket of the live tail. `form-action 'none'`: the forms are handled by script; should the
 * script not run, a form must not submit the admin key anywhere.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The page: a mount point and the two assets, versioned so a new build is never served stale. */
export function consolePage(version: string): string {
  const v = encodeURIComponent(version);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>opentact-bridge console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${CONSOLE_ASSETS_PATH}/console.css?v=${v}">
<script src="${CONSOLE_ASSETS_PATH}/console.js?v=${v}" defer></script>
</head>
<body>
<noscript>The console needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
}
