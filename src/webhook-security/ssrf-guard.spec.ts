import { InvalidCidrError, SsrfGuard } from './ssrf-guard';

describe('SsrfGuard.check', () => {
  const guard = new SsrfGuard([]);

  // [address, expected reason fragment, or null when the address must be allowed]
  it.each<[string, string | null]>([
    // IPv4 special-purpose ranges
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['192.0.2.10', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.99', 'documentation'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.88.99.1', '6to4 relay'],
    // edges just outside blocked ranges
    ['172.15.255.255', null],
    ['172.32.0.1', null],
    ['100.63.255.255', null],
    ['100.128.0.1', null],
    ['198.20.0.1', null],
    ['11.0.0.1', null],
    // public
    ['93.184.216.34', null],
    ['8.8.8.8', null],
    ['1.1.1.1', null],
    // odd IPv4 spellings are understood, not waved through
    ['0x7f.1', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['2130706433', 'loopback'],
    ['0xa9fea9fe', 'link-local'],
    // IPv6 special-purpose ranges
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['ff0e::1', 'multicast'],
    ['fec0::1', 'site-local'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001::1', 'Teredo'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['2001:2::1', 'IETF protocol assignments'],
    ['100::1', 'outside global unicast'],
    ['5f00::1', 'outside global unicast'],
    // IPv4-mapped, in both spellings: judged as the IPv4 address
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['0:0:0:0:0:ffff:c0a8:0101', 'private'],
    ['::ffff:93.184.216.34', null],
    // IPv4-compatible (deprecated)
    ['::127.0.0.1', 'IPv4-compatible'],
    ['::7f00:1', 'IPv4-compatible'],
    ['::93.184.216.34', 'IPv4-compatible'],
    // NAT64 and 6to4: judged by the embedded IPv4 address
    ['64:ff9b::127.0.0.1', 'NAT64'],
    ['64:ff9b::a9fe:a9fe', 'NAT64'],
    ['64:ff9b::10.1.2.3', 'NAT64'],
    ['64:ff9b::5db8:d822', null],
    ['64:ff9b:1::a00:1', 'local-use NAT64'],
    ['2002:7f00:1::1', '6to4'],
    ['2002:a9fe:a9fe::', '6to4'],
    ['2002:c0a8:0101::1', '6to4'],
    ['2002:5db8:d822::1', null],
    // public IPv6
    ['2606:4700::1111', null],
    ['2a00:1450:4001:80b::200e', null],
    ['2001:4860:4860::8888', null],
    // not an address at all
    ['example.com', 'not an IP address'],
    ['', 'not an IP address'],
  ])('%s', (address, reason) => {
    const verdict = guard.check(address);
    if (reason === null) {
      expect(verdict).toEqual({ allowed: true });
    } else {
      expect(verdict).toEqual({
        allowed: false,
        reason: expect.stringContaining(reason) as unknown,
      });
    }
  });
});

describe('SsrfGuard allow-list', () => {
  it.each<[string[], string, boolean]>([
    [['127.0.0.1/32'], '127.0.0.1', true],
    [['127.0.0.1/32'], '::ffff:127.0.0.1', true],
    [['127.0.0.1/32'], '::ffff:7f00:1', true],
    [['127.0.0.1/32'], '127.0.0.2', false],
    [['127.0.0.1/32'], '::1', false],
    [['::1/128'], '::1', true],
    [['::1/128'], '127.0.0.1', false],
    [['10.0.0.0/8'], '10.20.30.40', true],
    [['10.0.0.0/8'], '192.168.0.1', false],
    [['192.168.1.20'], '192.168.1.20', true],
    [['::ffff:10.0.0.0/104'], '10.9.9.9', true],
    [['fd00::/8'], 'fd00:ec2::254', true],
    [['::10.0.0.0/104'], '10.1.1.1', false],
    // the allow-list is matched on the dialled address, not on an address embedded in it
    [['127.0.0.1/32'], '64:ff9b::7f00:1', false],
  ])('allow %j: %s → %s', (allow, address, allowed) => {
    expect(new SsrfGuard(allow).check(address).allowed).toBe(allowed);
  });

  it('ignores blank entries and rejects malformed ones at construction', () => {
    expect(new SsrfGuard(['', ' ']).check('127.0.0.1').allowed).toBe(false);
    expect(() => new SsrfGuard(['127.0.0.1/33'])).toThrow(InvalidCidrError);
    expect(() => new SsrfGuard(['localhost'])).toThrow(InvalidCidrError);
    expect(() => new SsrfGuard(['10.0.0.0/8/8'])).toThrow(InvalidCidrError);
    expect(() => new SsrfGuard(['10.0.0.0/x'])).toThrow(InvalidCidrError);
    expect(() => new SsrfGuard(['10/8'])).toThrow(InvalidCidrError);
    expect(() => new SsrfGuard(['0x7f.1'])).toThrow(InvalidCidrError);
    expect(() => new SsrfGuard(['::/129'])).toThrow(InvalidCidrError);
  });
});

describe('SsrfGuard.checkUrl', () => {
  const guard = new SsrfGuard([]);

  it.each<[string, string | null]>([
    ['https://hooks.example.com/opentact', null],
    ['http://hooks.example.com:8080/x?y=1', null],
    ['https://93.184.216.34/hook', null],
    ['https://[2606:4700::1111]/hook', null],
    ['ftp://hooks.example.com/', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['javascript:alert(1)', 'scheme'],
    ['not a url', 'not a valid absolute URL'],
    ['/relative/path', 'not a valid absolute URL'],
    ['https://user:pass@hooks.example.com/', 'credentials'],
    ['https://user@hooks.example.com/', 'credentials'],
    ['http://127.0.0.1/', 'loopback'],
    ['http://127.1/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://0177.0.0.1/', 'loopback'],
    ['http://0x7f000001/', 'loopback'],
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[::1]:8080/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://[::ffff:7f00:1]/', 'loopback'],
    ['http://[fd00:ec2::254]/', 'unique-local'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'NAT64'],
    ['http://[2002:a9fe:a9fe::1]/', '6to4'],
    ['http://10.0.0.1/', 'private'],
    ['http://localhost:3000/', 'loopback'],
    ['http://LOCALHOST./', 'loopback'],
    ['http://api.localhost/', 'loopback'],
  ])('%s', (url, reason) => {
    const verdict = guard.checkUrl(url);
    if (reason === null) {
      expect(verdict).toEqual({ allowed: true });
    } else {
      expect(verdict).toEqual({
        allowed: false,
        reason: expect.stringContaining(reason) as unknown,
      });
    }
  });

  it('lets localhost names through only when 127.0.0.1 is allowed', () => {
    const local = new SsrfGuard(['127.0.0.1/32']);
    expect(local.checkUrl('http://localhost:3000/hook')).toEqual({ allowed: true });
    expect(local.checkUrl('http://127.0.0.1:3000/hook')).toEqual({ allowed: true });
    expect(local.checkUrl('http://[::1]:3000/hook').allowed).toBe(false);
  });
});
