/** `ecacface --version`: the package version, and which native addon would load (without loading it). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseAddon, packageRoot, platformTag } from '../native-load.js';

/** The lines `ecacface --version` prints. */
export function versionText(): string {
  const root = packageRoot();
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  let addon: string;
  try {
    const c = chooseAddon(root, process.env, false);
    const m = c.manifest;
    addon = `addon: ${c.path} (${c.kind === 'source' ? 'built from source' : c.kind}` + (m ? `, libtorch ${m.torchVersion} ${m.cuda ? `CUDA ${m.cuda}` : 'CPU'}` : '') + ')';
  } catch (err) {
    addon = `addon: none that loads here: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`;
  }
  return `ecacface-torch ${version}\nnode ${process.version} ${platformTag()}\n${addon}`;
}
