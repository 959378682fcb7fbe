// The located tree's index: a JSON pointer, as the validator writes it, names where its value
// (and, for a map entry, its key) was written; a pointer to nothing names nothing.
import { describe, expect, it } from 'vitest';
import { locIndex, toPlain } from '../../src/config/plain.js';
import { parseYaml } from '../../src/config/source.js';

const TEXT = ['zones:', '  web:', '    command: [a, b]', '    env:', '      a/b~c: x', '  "0": {}', ''].join('\n');

describe('locIndex', () => {
  const { node } = parseYaml(TEXT, 'zones.yaml');
  const index = locIndex(node!);

  it('walks maps by key (escaped as RFC 6901 says) and lists by position', () => {
    expect(index.get('')?.loc).toMatchObject({ line: 1, col: 1 });
    expect(index.get('/zones/web')).toMatchObject({ loc: { line: 3 }, keyLoc: { line: 2, col: 3 } });
    expect(index.get('/zones/web/command/1')).toEqual({ loc: { file: 'zones.yaml', line: 3, col: 18 } });
    expect(index.get('/zones/web/env/a~1b~0c')).toMatchObject({ loc: { line: 5, col: 14 }, keyLoc: { line: 5, col: 7 } });
    expect(index.get('/zones/0')).toMatchObject({ keyLoc: { line: 6, col: 3 } });
  });

  it('names nothing for a path that is not in the file', () => {
    for (const p of ['/nope', '/zones/web/command/2', '/zones/web/command/01', '/zones/web/command/x', '/zones/web/env/a/b~c', '/zones/web/command/0/deeper']) {
      expect(index.get(p), p).toBeUndefined();
    }
  });

  it('matches the plain data toPlain gives the validator', () => {
    expect(toPlain(node!)).toEqual({ zones: { web: { command: ['a', 'b'], env: { 'a/b~c': 'x' } }, '0': {} } });
  });
});
