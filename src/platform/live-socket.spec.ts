import { toBuffer } from './live-socket';

describe('toBuffer', () => {
  it('hands back a Buffer as it is, without copying', () => {
    const data = Buffer.from('{"type":"call"}');
    expect(toBuffer(data)).toBe(data);
  });

  it('joins the fragments of a message in order', () => {
    const joined = toBuffer([Buffer.from('{"type":'), Buffer.from('"sms"'), Buffer.from('}')]);
    expect(Buffer.isBuffer(joined)).toBe(true);
    expect(joined.toString('utf8')).toBe('{"type":"sms"}');
  });

  it('wraps an ArrayBuffer', () => {
    const bytes = new TextEncoder().encode('{"type":"balance"}');
    const wrapped = toBuffer(bytes.buffer.slice(0, bytes.byteLength));
    expect(Buffer.isBuffer(wrapped)).toBe(true);
    expect(wrapped.toString('utf8')).toBe('{"type":"balance"}');
  });
});
