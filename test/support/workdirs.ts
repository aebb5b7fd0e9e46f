import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A temp dir for one test file, removed after the file's own afterAll hooks (test/support/per-file-tmp.ts). */
export function workdir(tag = 'local'): string {
  const d = mkdtempSync(join(tmpdir(), `fb-${tag}-`));
  made.push(d);
  return d;
}

/** Remove every workdir() of this test file. */
export function removeWorkdirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
