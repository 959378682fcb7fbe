// ${VAR} and friends: every form, the .env file (beside the first file, inside DIR for
// -f DIR, the environment winning), and the conversion of interpolated values to the type
// the schema expects.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpolate, InterpolationError, type Env } from '../../src/config/interpolate.js';
import { loadConfig } from '../../src/config/load.js';
import { problems } from '../helpers/problems.js';
import { testdir } from '../helpers/testdir.js';

const env: Env = { SET: 'value', EMPTY: '', PORT: '8080', INNER: 'in' };

describe('interpolate', () => {
  it.each([
    ['${SET}', 'value'],
    ['${EMPTY}', ''],
    ['pre-${SET}-post', 'pre-value-post'],
    ['$SET', 'value'],
    ['$SET.conf', 'value.conf'],
    ['${SET}${PORT}', 'value8080'],
    // ${VAR:-default}: default when unset or empty
    ['${NOPE:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${SET:-d}', 'value'],
    ['${NOPE:-}', ''],
    ['${NOPE:-a b:c}', 'a b:c'],
    // ${VAR-default}: default only when unset
    ['${NOPE-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${SET-d}', 'value'],
    // ${VAR:?message} / ${VAR?message} when set
    ['${SET:?needed}', 'value'],
    ['${SET?needed}', 'value'],
    ['${EMPTY?needed}', ''],
    // ${VAR:+alt}: alt when set and not empty; ${VAR+alt}: alt when set
    ['${SET:+alt}', 'alt'],
    ['${EMPTY:+alt}', ''],
    ['${NOPE:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ['${NOPE+alt}', ''],
    // nested defaults
    ['${NOPE:-${INNER}}', 'in'],
    ['${NOPE:-${ALSO_NOPE:-deep}}', 'deep'],
    ['${NOPE:-x${INNER}y}', 'xiny'],
    ['${SET:+[${PORT}]}', '[8080]'],
    // $$ is a literal $, and a $ that starts nothing stays
    ['$$', '$'],
    ['$$SET', '$SET'],
    ['$${SET}', '${SET}'],
    ['cost: 5$', 'cost: 5$'],
    ['$1 and $ alone', '$1 and $ alone'],
    ['${NOPE:-$$}', '$'],
  ])('%s → %j', (text, out) => {
    expect(interpolate(text, env)).toBe(out);
  });

  it.each([
    ['${NOPE}', 'uses ${NOPE}, which is not set (give a default with ${NOPE:-value})'],
    ['$NOPE', 'uses ${NOPE}, which is not set'],
    ['${NOPE:?set NOPE to a tarball}', 'needs NOPE: set NOPE to a tarball'],
    ['${EMPTY:?must not be empty}', 'needs EMPTY: must not be empty'],
    ['${NOPE?gone}', 'needs NOPE: gone'],
    ['${NOPE:?}', 'needs NOPE: NOPE is not set'],
    ['${NOPE', 'has an unclosed "${" at character 1'],
    ['ab${NOPE:-${X}', 'has an unclosed "${" at character 3'],
    ['${}', 'has an invalid substitution "${}"'],
    ['${1X}', 'has an invalid substitution "${1X}"'],
    ['${A B}', 'has an invalid substitution "${A B}"'],
    ['${SET:x}', 'has an invalid substitution "${SET:x}"'],
    ['${NOPE:-${ALSO_NOPE}}', 'uses ${ALSO_NOPE}, which is not set'],
  ])('%s fails: %s', (text, message) => {
    expect(() => interpolate(text, env)).toThrow(InterpolationError);
    expect(() => interpolate(text, env)).toThrow(message);
  });

  it('does not evaluate the default when the variable is set', () => {
    expect(interpolate('${SET:-${NOPE}}', env)).toBe('value');
    expect(interpolate('${SET:?${NOPE}}', env)).toBe('value');
  });
});

describe('variables in zones files', () => {
  const ZONES = `
zones:
  web:
    hostname: \${HOST_NAME:-web}
    command: ["node", "\${APP:-/srv/app.js}", "--cost=$$5"]
`;

  it('reads a .env beside the first file, and the environment wins over it', () => {
    const dir = testdir({ 'zones.yaml': ZONES, '.env': '# local settings\nHOST_NAME=from-dotenv\nexport APP="/srv/dotenv.js"\n' });
    const file = join(dir, 'zones.yaml');
    const fromDotenv = loadConfig({ files: [file], env: {} });
    expect(fromDotenv.desired.zones.web!.hostname).toBe('from-dotenv');
    expect(fromDotenv.desired.zones.web!.command).toEqual(['node', '/srv/dotenv.js', '--cost=$5']);
    expect(fromDotenv.sources).toEqual([file, join(dir, '.env')]);
    const fromEnv = loadConfig({ files: [file], env: { HOST_NAME: 'from-env' } });
    expect(fromEnv.desired.zones.web!.hostname).toBe('from-env');
    expect(fromEnv.desired.zones.web!.command[1]).toBe('/srv/dotenv.js');
  });

  it('ignores a .env beside a later file', () => {
    const dir = testdir({ 'a/zones.yaml': ZONES, 'b/override.yaml': 'zones: {}\n', 'b/.env': 'HOST_NAME=from-b\n' });
    const { desired, sources } = loadConfig({ files: [join(dir, 'a/zones.yaml'), join(dir, 'b/override.yaml')], env: {} });
    expect(desired.zones.web!.hostname).toBe('web');
    expect(sources).not.toContain(join(dir, 'b/.env'));
  });

  it('reads the .env inside DIR for -f DIR', () => {
    const dir = testdir({ 'conf/10-zones.yaml': ZONES, 'conf/.env': 'HOST_NAME=from-dir\n', '.env': 'HOST_NAME=from-parent\n' });
    expect(loadConfig({ files: [join(dir, 'conf')], env: {} }).desired.zones.web!.hostname).toBe('from-dir');
  });

  it('locates a bad .env line', () => {
    const dir = testdir({ 'zones.yaml': ZONES, '.env': 'OK=1\n  this is not an assignment\n' });
    expect(problems(() => loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }))).toEqual(['.env:2:3 expected KEY=VALUE (got "this is not an assignment")']);
  });

  it('gives interpolated values the type the schema expects', () => {
    const dir = testdir({
      'zones.yaml': `
networks:
  front:
    subnet: 10.213.1.0/24
    gateway: \${GW:-true}
zones:
  web:
    hostname: \${H:-123}
    user: \${UID_GID:-1000}
    env:
      N: \${N:-42}
    limits:
      cpus: \${CPUS:-0.5}
      memory: \${MEM:-512}
      pids: \${PIDS:-max}
      cpu_weight: \${W:-200}
    networks: [front]
`,
    });
    const { desired } = loadConfig({ files: [join(dir, 'zones.yaml')], env: {} });
    const web = desired.zones.web!;
    expect(web.limits.cpus).toEqual({ quota_us: 50_000, period_us: 100_000 });
    expect(web.limits.memory).toBe(512);
    expect(web.limits.pids).toBeNull();
    expect(web.limits.cpu_weight).toBe(200);
    expect(web.hostname).toBe('123');
    expect(web.user).toBe('1000');
    expect(web.env).toEqual({ N: '42' });
    expect(desired.networks.front!.gateway).toBe(true);
  });

  it('keeps an interpolated value that is not of the expected type, and says so', () => {
    const dir = testdir({ 'zones.yaml': 'zones:\n  web:\n    limits:\n      cpus: ${CPUS}\n      cpu_weight: ${W}\n' });
    expect(problems(() => loadConfig({ files: [join(dir, 'zones.yaml')], env: { CPUS: 'a lot', W: '1.5' } }))).toEqual([
      'zones.yaml:4:13 zones.web.limits.cpus: "a lot" is not a number of CPUs (e.g. 0.5, 2, or max)',
      'zones.yaml:5:19 zones.web.limits.cpu_weight: "1.5" is not a CPU weight (a whole number from 1 to 10000)',
    ]);
  });

  it('leaves keys alone and reports every failed value once, where it was written', () => {
    const dir = testdir({ 'zones.yaml': 'zones:\n  web:\n    env:\n      ${KEY}: ${A}\n      B: ${B:?B is needed}\n' });
    expect(problems(() => loadConfig({ files: [join(dir, 'zones.yaml')], env: {} }))).toEqual([
      'zones.yaml:4:7 zones.web.env["${KEY}"]: "${KEY}" is not a variable name (letters, digits and _, not starting with a digit)',
      'zones.yaml:4:15 zones.web.env["${KEY}"]: "${A}" uses ${A}, which is not set (give a default with ${A:-value})',
      'zones.yaml:5:10 zones.web.env.B: "${B:?B is needed}" needs B: B is needed',
    ]);
  });
});
