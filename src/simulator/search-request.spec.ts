import { SEARCH_PATHS, searchFilters, searchPage } from './search-request';
import { httpStatusOf } from './simulator.spec-fixture';

const url = (query: string): URL => new URL(`http://sim.invalid/rest/sms/search/inbound${query}`);

describe('search requests (reference §7.1)', () => {
  it('routes the two SMS searches and the call search', () => {
    expect([...SEARCH_PATHS.entries()]).toEqual([
      ['/rest/sms/search/inbound', 'sms-inbound'],
      ['/rest/sms/search/outbound', 'sms-outbound'],
      ['/rest/sip/app/call/search', 'calls'],
    ]);
  });

  it('pages 10 from 0 by default, take 1-100 and skip >= 0 from the query', () => {
    expect(searchPage(url(''))).toEqual({ take: 10, skip: 0 });
    expect(searchPage(url('?take=100&skip=7'))).toEqual({ take: 100, skip: 7 });
  });

  it.each(['?take=0', '?take=101', '?take=2.5', '?take=x', '?skip=-1', '?skip=1.5'])(
    'answers 400 to %s',
    (query) => {
      expect(httpStatusOf(() => searchPage(url(query)))).toBe(400);
    },
  );

  it('reads time ranges and the equality filters of the search, ignoring null and others', () => {
    const filters = searchFilters('sms-inbound', {
      created_on_from: '2026-01-01T00:00:00.000Z',
      modified_on_to: '2026-01-02T00:00:00.000Z',
      created_on_to: null,
      from: '15550001',
      tn: 18382049000,
      delivered: true,
      state: null,
      sip_control_app: 'not an SMS filter',
    });
    expect(filters).toEqual({
      created: { fromMs: Date.parse('2026-01-01T00:00:00.000Z'), toMs: undefined },
      modified: { fromMs: undefined, toMs: Date.parse('2026-01-02T00:00:00.000Z') },
      equals: { from: '15550001', tn: '18382049000', delivered: true },
    });
    expect(searchFilters('calls', { sip_control_app: 'app-1', thread: 't' }).equals).toEqual({
      sip_control_app: 'app-1',
    });
  });

  it.each([
    ['a bad date', { created_on_from: 'yesterday' }],
    ['a date that is not a string', { modified_on_from: 1_700_000_000_000 }],
    ['a flag that is not a boolean', { readed: 'false' }],
    ['a filter that is not a string', { from: { eq: '1' } }],
  ])('answers 400 to %s', (_why, body) => {
    expect(httpStatusOf(() => searchFilters('sms-inbound', body))).toBe(400);
  });
});
