// Start-up is part of zonectl's promise (`validate` within 1.6× a bare `node -e 0`), and
// Node 20 has no module compile cache. So the build packs the compiled CLI (dist/**/*.js)
// and its pure-JS dependencies (yaml, commander) into scripts where each module is a
// function in a small registry, each script with a V8 code cache. bin/zonectl.cjs compiles
// them with their caches: no module resolution, no per-file reads, no lazy compilation of
// what the cache holds. ESM modules are turned into CommonJS by TypeScript's own transpiler;
// `import.meta` becomes a per-module object. A cache that V8 rejects (another node version)
// is ignored and costs nothing.
//
// Three scripts, so that every command pays only for what it runs:
// - dist/zonectl.js: the registry and the modules that the commands without host access
//   load (validate, config, --help, --version), cached after a warm-up run of those;
// - dist/zonectl-host.js: every other module of zonectl the CLI can reach (up, down, plan,
//   ps, the drivers, the planner, the executor), loaded on the first miss. Its cache is made
//   from an eager compilation of the whole script: the build must not touch the host (no
//   cgroups, links or zones at build time), so a warm-up cannot run those paths for real.
//   (Measured against a warm-up of up/plan/down on the fake host, whose cache is 110 KB
//   instead of 446 KB: the same own work for up, 80 vs 83 ms, but 117 vs 110 ms for down,
//   whose real drivers the fake does not run; with no cache at all, up took 93 ms.)
// - dist/zonectl-yaml.js: the yaml package, needed only for files outside the plain subset
//   that src/config/simple-yaml.ts parses, and for printing YAML; cached after the warm-up.
// Modules that the CLI cannot reach (the fake host of the tests) are left out.
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const require = createRequire(join(root, 'package.json'));

/** Packages bundled (pure JS, CommonJS, needed at start-up), with the paths that hold their CommonJS build. */
const BUNDLED = { yaml: ['dist'], commander: ['index.js', 'lib'] };

const walk = (d, out = []) => {
  for (const f of readdirSync(d).sort()) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith('.js')) out.push(p);
  }
  return out;
};

/**
 * The config loader parses most files without yaml (src/config/simple-yaml.ts), so yaml (a
 * hundred modules, ~1.4 ms to load) is loaded when first used: its module object becomes a
 * proxy that requires it on the first property read.
 */
function lazyYaml(cjs) {
  return cjs.replace(/^const (\w+) = require\("yaml"\);$/m, (_, name) => `const ${name} = ((get) => { let m; return new Proxy({}, { get: (_, k) => (m ??= get())[k] }); })(() => require("yaml"));`);
}

/** id → module source (a function body taking module, exports, require, __import_meta). */
const modules = new Map();
for (const file of walk(dist)) {
  if (/^zonectl(-[a-z]+)?\.js$/.test(relative(dist, file))) continue; // this script's output
  const esm = readFileSync(file, 'utf8').replaceAll('import.meta', '__import_meta');
  const cjs = ts.transpileModule(esm, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: false },
  }).outputText;
  modules.set(`dist/${relative(dist, file).split('\\').join('/')}`, lazyYaml(cjs));
}
/**
 * Edits to the bundled packages, each for start-up time; the build fails when one no longer
 * applies (the versions are pinned in package.json, so only an upgrade can cause that).
 * commander loads node:child_process (and with it net, stream, dgram: ~1.6 ms) for
 * executable subcommands, which zonectl has none of: load it only if one is ever spawned.
 */
/** See `builtin` in coreScript. */
const LAZY_BUILTINS = ['fs/promises', 'crypto', 'child_process', 'net', 'dgram', 'tty', 'readline', 'zlib', 'worker_threads', 'timers/promises'];

const PATCHES = {
  'node_modules/commander/lib/command.js': [
    ["const childProcess = require('node:child_process');", "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) }; // zonectl bundle: loaded on first use"],
  ],
};

function patched(id, code) {
  for (const [from, to] of PATCHES[id] ?? []) {
    if (!code.includes(from)) throw new Error(`bundle: ${id} no longer contains ${JSON.stringify(from)}: update PATCHES in scripts/bundle.mjs`);
    code = code.replace(from, to);
  }
  return code;
}

const entries = {};
for (const [name, paths] of Object.entries(BUNDLED)) {
  const main = require.resolve(name);
  const pkgDir = main.slice(0, main.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}`.length);
  const prefix = `node_modules/${name}`;
  for (const file of paths.flatMap((p) => (p.endsWith('.js') ? [join(pkgDir, p)] : walk(join(pkgDir, p))))) {
    const id = `${prefix}/${relative(pkgDir, file).split('\\').join('/')}`;
    modules.set(id, patched(id, readFileSync(file, 'utf8')));
  }
  entries[name] = `${prefix}/${relative(pkgDir, main).split('\\').join('/')}`;
}

/** A require() of a literal specifier (TypeScript's output keeps them literal): the quote, the specifier. */
const REQUIRE = /\brequire\((["'])([^"'\n]+)\1\)/g;
/** The specifiers a module requires. */
const requires = (code) => [...code.matchAll(REQUIRE)].map((m) => m[2]);

/** The bundled module a specifier names, seen from module `from` (the runtime resolve, below, in short). */
function resolveId(from, spec) {
  if (spec in entries) return entries[spec];
  if (!spec.startsWith('.')) return undefined;
  const parts = from.split('/').slice(0, -1);
  for (const s of spec.split('/')) if (s === '..') parts.pop(); else if (s !== '.') parts.push(s);
  const id = parts.join('/');
  return [id, `${id}.js`, `${id}/index.js`].find((c) => modules.has(c));
}

const MAIN = 'dist/cli/main.js';
const reachable = new Set([MAIN]);
for (const id of reachable) {
  for (const spec of requires(modules.get(id))) {
    const dep = resolveId(id, spec);
    if (dep !== undefined) reachable.add(dep);
  }
}

/**
 * A module's source with each bundled specifier replaced by the id it resolves to, so that the
 * runtime's resolve() finds it with one lookup: resolving ~600 relative specifiers at run time
 * (splits, joins, three candidates each) was ~1.5 ms of a cold `up`.
 */
const resolvedSource = (id) =>
  modules.get(id).replace(REQUIRE, (call, quote, spec) => {
    const dep = resolveId(id, spec);
    if (dep !== undefined) return `require(${quote}${dep}${quote})`;
    if (spec.startsWith('.')) throw new Error(`bundle: ${id} requires ${spec}, which is not a bundled module`);
    return call; // a built-in
  });

const defsOf = (ids) => ids.map((id) => `defs[${JSON.stringify(id)}] = function (module, exports, require, __import_meta) {\n${resolvedSource(id)}\n};\n`).join('');

/** The core script: the registry, the modules in `core`, and which part defines each other module. */
function coreScript(core, parts) {
  const later = Object.fromEntries(Object.entries(parts).flatMap(([part, ids]) => ids.map((id) => [id, part])));
  return `(function (root, hostRequire, pathToFileURL, compile) {
"use strict";
// generated by scripts/bundle.mjs: the zonectl CLI and ${Object.keys(BUNDLED).join(', ')} (see their licences in node_modules)
const defs = Object.create(null);
const cache = Object.create(null);
// module id → the script that defines it (dist/NAME.js), compiled on the first miss
const later = new Map(Object.entries(${JSON.stringify(later)}));
function load(id) {
  const cached = cache[id];
  if (cached) return cached.exports;
  const part = later.get(id);
  if (part !== undefined && !(id in defs)) {
    compile(part)(defs);
    for (const [m, p] of later) if (p === part) later.delete(m);
  }
  const module = { exports: {} };
  cache[id] = module;
  // import.meta: dirname and filename as node gives them (a path, no URL code run); url when asked
  let url;
  const filename = root + '/' + id;
  const meta = { filename, dirname: filename.slice(0, filename.lastIndexOf('/')), get url() { return (url ??= pathToFileURL(filename).href); } };
  defs[id](module, module.exports, resolve, meta);
  return module.exports;
}
// Built-in modules that cost milliseconds to load (node:crypto ~4 ms, node:child_process with
// net and dgram ~3.5 ms, node:fs/promises with streams ~1.3 ms) and that most runs of most
// commands never call: a stand-in that loads the module at its first use. Only modules whose
// exports are a plain object.
const LAZY = new Set(${JSON.stringify(LAZY_BUILTINS)});
const lazy = Object.create(null);
function builtin(spec) {
  if (!LAZY.has(spec.replace(/^node:/, ''))) return hostRequire(spec);
  if (lazy[spec]) return lazy[spec];
  let real;
  const m = () => (real ??= hostRequire(spec));
  return (lazy[spec] = new Proxy(Object.create(null), {
    get: (_, k) => m()[k],
    set: (_, k, v) => ((m()[k] = v), true),
    has: (_, k) => k in m(),
    ownKeys: () => Reflect.ownKeys(m()),
    getOwnPropertyDescriptor: (_, k) => {
      const d = Reflect.getOwnPropertyDescriptor(m(), k);
      return d && { ...d, configurable: true };
    },
  }));
}
// A bundled module's specifiers are module ids (resolvedSource in scripts/bundle.mjs); the rest
// are built-ins and the packages left out of the bundle.
function resolve(spec) {
  return spec in defs || later.has(spec) ? load(spec) : builtin(spec);
}
${defsOf(core)}return { load, loaded: () => Object.keys(cache) };
})`;
}

/** A part: more modules for the core's registry. */
const partScript = (ids) => `(function (defs) {\n"use strict";\n${defsOf(ids)}})`;

/** A project with mistakes, for the warm-up of the error paths (a typo, a bad unit). */
const broken = mkdtempSync(join(tmpdir(), 'zonectl-bundle-'));
writeFileSync(join(broken, 'zones.yaml'), 'name: broken\nzones:\n  web:\n    comand: [/bin/true]\n    limits:\n      memory: lots\n');

/** Runs what the commands without host access run, output muted; returns the modules loaded. */
async function warmUp(source, filename, compile) {
  const script = new vm.Script(source, { filename });
  const { load, loaded } = script.runInThisContext()(root, require, pathToFileURL, compile);
  const { main } = load(MAIN);
  const runs = [
    [0, 'validate', '-q', '-f', 'samples/webstack'],
    [0, 'config', '--json', '-f', 'samples/gitops/zones'],
    [0, 'config', '-f', 'samples/limits'],
    [0, '--help'],
    [0, '--version'],
    [1, 'validate', '-f', broken],
    [1, 'validate', '--json', '-f', broken],
  ];
  const [out, err] = [process.stdout.write, process.stderr.write];
  process.stdout.write = process.stderr.write = () => true;
  try {
    for (const [expected, ...args] of runs) {
      const code = await main(args);
      if (code !== expected) throw new Error(`warm-up: zonectl ${args.join(' ')} exited ${code}, not ${expected}`);
    }
  } finally {
    [process.stdout.write, process.stderr.write] = [out, err];
  }
  return { script, loaded: loaded() };
}

const all = [...modules.keys()].filter((id) => reachable.has(id));
const isYaml = (id) => id.startsWith('node_modules/yaml/');
// Pass 1: everything in one script, to learn what the warm-up loads.
const { loaded } = await warmUp(coreScript(all, {}), join(dist, 'zonectl.js'), () => {
  throw new Error('pass 1 has no parts');
});
const core = all.filter((id) => loaded.includes(id) && !isYaml(id));
const parts = { 'zonectl-host': all.filter((id) => !loaded.includes(id) && !isYaml(id)), 'zonectl-yaml': all.filter(isYaml) };

/**
 * The source with every non-ASCII character written as a \\u escape (in strings, regular
 * expressions and template literals alike; no String.raw in the bundle, checked here): V8 then
 * keeps it as a one-byte string, which bin/zonectl.cjs reads as latin1 without UTF-8 decoding,
 * and which is half the memory (one non-ASCII character made the whole source two-byte).
 */
function ascii(source) {
  if (/String\.raw|\\[^\x00-\x7f]/.test(source)) throw new Error('bundle: String.raw or an escaped non-ASCII character: ascii() would change it');
  return source.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Writes a script or a cache of dist/ as a new file: a running zonectl maps them (native/src/map.c),
 * and a file rewritten in place would change under it (or, shorter, make it fault).
 */
function replaceFile(path, data) {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

// Pass 2: the scripts and their caches.
const coreSource = ascii(coreScript(core, parts));
replaceFile(join(dist, 'zonectl.js'), coreSource);
const partSources = Object.fromEntries(Object.entries(parts).map(([name, ids]) => [name, ascii(partScript(ids))]));
for (const [name, source] of Object.entries(partSources)) replaceFile(join(dist, `${name}.js`), source);
const v8 = await import('node:v8');
v8.setFlagsFromString('--no-lazy');
const host = new vm.Script(partSources['zonectl-host'], { filename: join(dist, 'zonectl-host.js') });
v8.setFlagsFromString('--lazy'); // back to the default: the flags are part of the cache's checksum
replaceFile(join(dist, 'zonectl-host.cache'), host.createCachedData());
// yaml's part is cached after the warm-up, like the core (the samples use anchors and merge keys).
const yaml = new vm.Script(partSources['zonectl-yaml'], { filename: join(dist, 'zonectl-yaml.js') });
const { script } = await warmUp(coreSource, join(dist, 'zonectl.js'), (name) => {
  if (name !== 'zonectl-yaml') throw new Error(`warm-up: a command without host access loaded a module of dist/${name}.js`);
  return yaml.runInThisContext();
});
replaceFile(join(dist, 'zonectl.cache'), script.createCachedData());
replaceFile(join(dist, 'zonectl-yaml.cache'), yaml.createCachedData());
rmSync(broken, { recursive: true, force: true });
