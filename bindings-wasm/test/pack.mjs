// Test helper: `npm pack` the package (as built in dist/) and install the tarball into a scratch
// project, as a user would (offline: the package has no dependencies).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const pkgDir = dirname(dirname(fileURLToPath(import.meta.url)));
export const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });

/** `{ scratch, tarball, cleanup }`: a project with `cbreaker` installed from the packed tarball. */
export function packAndInstall(prefix, packageJson = { name: 'consumer', private: true }) {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  const out = run('npm', ['pack', '--silent', '--pack-destination', scratch], pkgDir).trim().split('\n').pop();
  const tarball = join(scratch, out);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify(packageJson));
  run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', '--offline', tarball], scratch);
  return { scratch, tarball, cleanup: () => rmSync(scratch, { recursive: true, force: true }) };
}
