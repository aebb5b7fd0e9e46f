// Files the user names (config, jobs file) are read with a cap: /dev/zero, a runaway pipe or a
// wrong multi-GB file ends as an input error naming the file, at once — not as a minute-long hang
// and a native abort once the text outgrows V8's string limit.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INPUT_LIMITS, readInputFile } from '../../src/config/read-input.js';
import { loadConfig } from '../../src/config/load.js';
import { InputError } from '../../src/core/errors.js';
import { readJobsFile } from '../../src/jobs/file-source.js';
import { readExecutionPlan } from '../../src/plugins/aws-ec2/execution-plan.js';
import { loadRegistry } from '../../src/plugins/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'fb-read-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refused(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('expected an InputError');
}

describe('readInputFile', () => {
  it('reads a file within the cap', () => {
    writeFileSync(join(dir, 'ok.txt'), 'héllo\n');
    expect(readInputFile(join(dir, 'ok.txt'), 'thing', 100)).toBe('héllo\n');
  });

  it('refuses an endless device quickly, naming the file and the cap', () => {
    const t0 = Date.now();
    const e = refused(() => readInputFile('/dev/zero', 'config /dev/zero', 1024 * 1024));
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(e.message).toContain('config /dev/zero');
    expect(e.issues[0]!.message).toMatch(/more than 1 MiB/);
  });

  it('refuses a regular file over the cap without reading it', () => {
    writeFileSync(join(dir, 'big.txt'), 'x'.repeat(2048));
    expect(refused(() => readInputFile(join(dir, 'big.txt'), 'jobs file big.txt', 1024)).issues[0]!.message).toBe(
      '2048 bytes is over the 1024 bytes limit for this file',
    );
  });

  it('a missing file and a directory are input errors with the errno code', () => {
    expect(refused(() => readInputFile(join(dir, 'nope'), 'config nope', 10)).issues[0]!.message).toBe('cannot read: ENOENT');
    mkdirSync(join(dir, 'd'), { recursive: true });
    expect(refused(() => readInputFile(join(dir, 'd'), 'config d', 10)).issues[0]!.message).toBe('cannot read: EISDIR');
  });

  it('loadConfig and readJobsFile refuse /dev/zero as input errors (the CLI exits 2)', async () => {
    const reg = await loadRegistry();
    expect(refused(() => loadConfig('/dev/zero', reg)).message).toMatch(/^invalid config \/dev\/zero:/);
    await expect(readJobsFile('/dev/zero')).rejects.toThrow(
      new RegExp(`invalid jobs file /dev/zero:\\n  - \\(root\\): more than ${INPUT_LIMITS.jobs / 1024 / 1024} MiB`),
    );
  }, 30_000);

  it('an execution plan (--plan /dev/zero) is refused the same way', async () => {
    await expect(readExecutionPlan('/dev/zero')).rejects.toThrow(
      /invalid execution plan \/dev\/zero:\n  - \/dev\/zero: \(file\): more than 4 MiB/,
    );
  }, 30_000);
});
