/**
 * The published package works from plain Node: `npm pack`, install the tarball into an empty
 * project, drop in the prebuilt addon the way `npm run prebuild` lays it out
 * (prebuilds/linux-x64/ecacface-torch.node), check that the install script picks it, then import
 * the package from an .mjs file and run a tensor op.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm package', () => {
  it('packs, installs into an empty project and runs a tensor op from plain Node', () => {
    const work = mkdtempSync(join(tmpdir(), 'ecacface-pack-'));
    try {
      const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' });
      const tgz = join(work, out.trim().split('\n').pop()!);
      expect(existsSync(tgz)).toBe(true);

      const app = join(work, 'app');
      mkdirSync(app);
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }));
      execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tgz], {
        cwd: app,
        stdio: 'pipe',
      });
      const pkg = join(app, 'node_modules', 'ecacface-torch');
      expect(readdirSync(pkg)).toEqual(expect.arrayContaining(['dist', 'native', 'CMakeLists.txt', 'package.json']));

      const prebuilds = join(pkg, 'prebuilds', 'linux-x64');
      mkdirSync(prebuilds, { recursive: true });
      copyFileSync(join(root, 'build', 'Release', 'ecacface.node'), join(prebuilds, 'ecacface-torch.node'));
      const install = execFileSync(process.execPath, [join(pkg, 'scripts', 'install.js')], { cwd: pkg, encoding: 'utf8' });
      expect(install).toMatch(/using the prebuilt native addon/);

      writeFileSync(
        join(app, 'main.mjs'),
        `import { tensor, memory } from 'ecacface-torch';
         const a = tensor([[1, 2], [3, 4]]);
         const b = a.matmul(a);
         console.log(JSON.stringify({ value: b.toArray(), live: memory().tensors }));
         b.dispose(); a.dispose();`,
      );
      const result = JSON.parse(execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8' }));
      expect(result.value).toEqual([[7, 10], [15, 22]]);
      expect(result.live).toBe(2);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
