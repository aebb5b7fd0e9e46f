import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { InputError } from '../core/errors.js';
import type { CredentialRef } from '../core/types.js';

/** Read each credential from where it points; a missing one is a clear, non-retryable error. */
export function resolveCredentials(refs: Record<string, CredentialRef> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, ref] of Object.entries(refs ?? {})) {
    if ('env' in ref) {
      const v = process.env[ref.env];
      if (v === undefined) throw new InputError('credentials', [{ path: `credentials.${name}`, message: `environment variable ${ref.env} is not set on this host (${hostname()})` }]);
      out[name] = v;
    } else {
      try {
        out[name] = readFileSync(ref.file, 'utf8').trim();
      } catch (e) {
        throw new InputError('credentials', [{ path: `credentials.${name}`, message: `cannot read ${ref.file} on this host (${hostname()}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
      }
    }
  }
  return out;
}

