import { connectCause, redactUrl } from './connect-error';

describe('redactUrl', () => {
  it.each([
    ['wss://api.opentact.org', 'wss://api.opentact.org'],
    ['wss://api.opentact.org/', 'wss://api.opentact.org'],
    ['ws://127.0.0.1:4000/stream', 'ws://127.0.0.1:4000/stream'],
    ['wss://user:hunter2@api.opentact.org/ws', 'wss://api.opentact.org/ws'],
    ['wss://api.opentact.org/ws?token=eyJx.eyJy.z#frag', 'wss://api.opentact.org/ws?[redacted]'],
    ['not a url', '[unparseable URL]'],
  ])('%s is logged as %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('connectCause', () => {
  it('names the system or TLS error code first', () => {
    expect(
      connectCause({ message: 'connect ECONNREFUSED 127.0.0.1:9', code: 'ECONNREFUSED' }),
    ).toBe('ECONNREFUSED');
    expect(connectCause({ message: 'getaddrinfo ENOTFOUND x.invalid', code: 'ENOTFOUND' })).toBe(
      'ENOTFOUND',
    );
    expect(
      connectCause({ message: 'self-signed certificate', code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    ).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('gives the TLS reason of an EPROTO', () => {
    expect(
      connectCause({
        code: 'EPROTO',
        message:
          'write EPROTO 80DC4900017F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:',
      }),
    ).toBe('EPROTO (TLS: wrong version number)');
    expect(connectCause({ code: 'EPROTO', message: 'write EPROTO' })).toBe('EPROTO (TLS)');
  });

  it('gives the HTTP status of a refused upgrade', () => {
    expect(connectCause({ message: 'Unexpected server response: 401' })).toBe(
      'upgrade refused: HTTP 401',
    );
  });

  it('falls back to the message, or says the handshake never completed', () => {
    expect(connectCause({ message: 'Opening handshake has timed out' })).toBe(
      'Opening handshake has timed out',
    );
    expect(connectCause({ message: '' })).toBe('connection failed');
    expect(connectCause(undefined)).toBe('closed before the WebSocket handshake completed');
  });
});
