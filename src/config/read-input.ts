// Reading a file the user named (a config, a jobs file, an execution plan) with a size cap: a
// path like /dev/zero or a runaway pipe must end as an input error naming the file, not as a hang
// and then a native abort when the text outgrows what V8 can hold.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../core/errors.js';

/** Caps on what fluxburst reads from a file the user named. */
export const INPUT_LIMITS = {
  config: 4 * 1024 * 1024,
  /** 100,000 Flux jobinfo records with their jobspecs fit well within this. */
  jobs: 256 * 1024 * 1024,
  plan: 4 * 1024 * 1024,
} as const;

const size = (n: number) => (n >= 1024 * 1024 ? `${Math.round((n / (1024 * 1024)) * 10) / 10} MiB` : `${n} bytes`);

/**
 * The file's text, read to at most `maxBytes`; anything larger (or endless) is refused as an
 * InputError of `origin`, as is a file that cannot be read (the errno code is the message).
 */
export function readInputFile(path: string, origin: string, maxBytes: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new InputError(origin, [{ path: '', message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new InputError(origin, [{ path: '', message: 'cannot read: EISDIR' }]);
    if (st.isFile() && st.size > maxBytes)
      throw new InputError(origin, [{ path: '', message: `${size(st.size)} is over the ${size(maxBytes)} limit for this file` }]);
    // Devices and pipes have no size up front: read until the end or just past the cap.
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') continue;
        throw new InputError(origin, [{ path: '', message: `cannot read: ${code ?? (e as Error).message}` }]);
      }
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > maxBytes)
        throw new InputError(origin, [
          { path: '', message: `more than ${size(maxBytes)} (the limit for this file); is it the right file?` },
        ]);
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
