/**
 * Test helper: a consumer project that installs the packed tarball offline. Its package-lock.json
 * is cut from this repository's lock (the same resolved URLs and integrities that `npm ci` already
 * put in the npm cache), so `npm ci --offline` needs nothing but the cache and the tarball.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [k: string]: unknown;
}

/** The lock path a dependency `name` of the package at lock path `from` resolves to. */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | null {
  let base = from;
  for (;;) {
    const p = (base ? `${base}/` : '') + `node_modules/${name}`;
    if (packages[p]) return p;
    if (!base) return null;
    const i = base.lastIndexOf('/node_modules/');
    base = i < 0 ? '' : base.slice(0, i);
  }
}

function closure(packages: Record<string, LockEntry>, roots: string[], seen: Set<string>): void {
  const stack = [...roots];
  while (stack.length) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    const e = packages[p]!;
    const deps = { ...e.dependencies, ...e.optionalDependencies };
    for (const [n] of Object.entries(e.peerDependencies ?? {})) if (!e.peerDependenciesMeta?.[n]?.optional) deps[n] = '*';
    for (const n of Object.keys(deps)) {
      const r = resolveIn(packages, p, n);
      if (r) stack.push(r);
    }
  }
}

/**
 * Writes `<app>/package.json` and `<app>/package-lock.json` for a project that depends on the
 * tarball and on `devTools` (names of packages in this repository's lock).
 */
export function writeConsumer(app: string, repoRoot: string, tgz: string, devTools: string[], type?: 'module' | 'commonjs'): void {
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; license: string };
  const spec = `file:../${basename(tgz)}`;
  const src = lock.packages;

  const prod = new Set<string>();
  closure(src, Object.keys(pkg.dependencies).map((n) => `node_modules/${n}`), prod);
  const all = new Set(prod);
  closure(src, devTools.map((n) => `node_modules/${n}`), all);

  const devDependencies: Record<string, string> = {};
  for (const n of devTools) devDependencies[n] = src[`node_modules/${n}`]!.version!;
  const manifest = { name: 'app', version: '1.0.0', private: true, ...(type ? { type } : {}), dependencies: { [pkg.name]: spec }, devDependencies };

  const packages: Record<string, LockEntry> = {
    '': { name: 'app', version: '1.0.0', dependencies: { [pkg.name]: spec }, devDependencies },
    [`node_modules/${pkg.name}`]: {
      version: pkg.version,
      resolved: spec,
      integrity: 'sha512-' + createHash('sha512').update(readFileSync(tgz)).digest('base64'),
      hasInstallScript: true,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: { ecacface: 'dist/lib/cli/main.js' },
    },
  };
  for (const p of [...all].sort()) {
    const { dev, devOptional, optional, peer, ...rest } = src[p]!;
    // This lock records no `resolved` URLs; without one npm wants the packument (not cached by
    // `npm ci`). The registry URL of name@version finds the tarball in the cache by its integrity.
    if (!rest.resolved && !rest.link && rest.version) {
      const name = p.slice(p.lastIndexOf('node_modules/') + 'node_modules/'.length);
      rest.resolved = `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${rest.version}.tgz`;
    }
    void dev;
    void devOptional;
    void peer;
    packages[p] = { ...rest, ...(prod.has(p) ? {} : { dev: true }), ...(optional ? { optional: true } : {}) };
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2) + '\n');
}
