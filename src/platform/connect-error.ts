/** What a socket error says, safe to log: message and code only. */
export interface SocketErrorInfo {
  message: string;
  code?: string;
}

const REFUSED_UPGRADE = /^Unexpected server response: (\d{3})\b/;
/** OpenSSL's reason in an EPROTO message: `...:SSL routines:<function>:<reason>:...`. */
const SSL_REASON = /SSL routines:[^:]*:([^:]+)/;

/**
 * The URL as it may be logged: no user or password, no query string (a token may ride there),
 * no fragment. Anything that does not parse is not echoed at all.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '[unparseable URL]';
  }
  const query = parsed.search === '' ? '' : '?[redacted]';
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}${query}`;
}

/**
 * Why a socket could not be opened, in an operator's words: the system error code
 * (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, a TLS code such as CERT_HAS_EXPIRED), or the HTTP status
 * of a refused upgrade, or else the message.
 */
export function connectCause(error: SocketErrorInfo | undefined): string {
  if (!error) {
    return 'closed before the WebSocket handshake completed';
  }
  const refused = REFUSED_UPGRADE.exec(error.message);
  if (refused) {
    return `upgrade refused: HTTP ${refused[1]}`;
  }
  if (error.code === 'EPROTO') {
    const reason = SSL_REASON.exec(error.message)?.[1];
    return reason === undefined ? 'EPROTO (TLS)' : `EPROTO (TLS: ${reason})`;
  }
  return error.code ?? (error.message === '' ? 'connection failed' : error.message);
}
