import { renderFields, renderTable } from './table.formatter';

describe('renderTable', () => {
  it('aligns every column to its widest cell, numbers to the right', () => {
    const text = renderTable(
      [{ header: 'ID' }, { header: 'COUNT', align: 'right' }, { header: 'NOTE' }],
      [
        ['a', 1, 'short'],
        ['longer-id', 12345, ''],
      ],
    );
    expect(text.split('\n')).toEqual([
      'ID         COUNT  NOTE',
      'a              1  short',
      'longer-id  12345',
    ]);
  });

  it('cuts cells at their column maximum with an ellipsis', () => {
    const text = renderTable([{ header: 'URL', max: 10 }], [['https://example.com/very/long']]);
    expect(text.split('\n')[1]).toBe('https://e…');
  });

  it('keeps each row on one line and shows control characters instead of sending them', () => {
    const text = renderTable([{ header: 'BODY' }], [['down\n\x1b[31mred\x1b[0m\u0007']]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('down \\x1b[31mred\\x1b[0m\\x07');
    expect(text).not.toContain('\x1b');
  });
});

describe('renderFields', () => {
  it('aligns values and leaves empty ones out', () => {
    expect(
      renderFields([
        ['ID', 'sub_1'],
        ['Description', undefined],
        ['Event types', '*'],
        ['Note', ''],
      ]),
    ).toBe('ID:           sub_1\nEvent types:  *');
  });
});
