import { parseTrustProxy, trustProxyProblem } from './trust-proxy';

describe('parseTrustProxy', () => {
  it('reads a hop count', () => {
    expect(parseTrustProxy(' 1 ')).toBe(1);
    expect(parseTrustProxy('32')).toBe(32);
  });

  it('reads a list of addresses, CIDRs and named ranges', () => {
    expect(parseTrustProxy('loopback, 10.0.0.0/8 ,fd00::/8,uniquelocal,192.0.2.7')).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      'uniquelocal',
      '192.0.2.7',
    ]);
  });

  it.each([
    ['0', /hop count from 1 to 32/],
    ['33', /hop count from 1 to 32/],
    ['true', /"true" is not an IP address/],
    ['*', /"\*" is not an IP address/],
    ['10.0.0.0/33', /"10.0.0.0\/33" is not/],
    [' , ', /list 1 to 64/],
    [Array.from({ length: 65 }, () => 'loopback').join(','), /list 1 to 64/],
  ])('refuses %s, naming the variable', (text, reason) => {
    const parsed = parseTrustProxy(text);
    expect(parsed).toEqual({ error: expect.stringMatching(reason) as unknown });
    expect((parsed as { error: string }).error).toMatch(/^TRUST_PROXY/);
  });

  it('calls a blank value unset, and explains any other refusal', () => {
    expect(trustProxyProblem('  ')).toBeUndefined();
    expect(trustProxyProblem('loopback')).toBeUndefined();
    expect(trustProxyProblem('3')).toBeUndefined();
    expect(trustProxyProblem('nope')).toMatch(/^TRUST_PROXY: "nope" is not/);
  });
});
