import type { z } from 'zod';
import { type FieldIssue, InputError } from './errors.js';

/** `a.b[0].c` from a zod issue path, with a prefix for where the value sits. */
export function issuePath(path: ReadonlyArray<PropertyKey>, prefix = ''): string {
  let out = prefix;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

export function toFieldIssues(err: z.ZodError, prefix = ''): FieldIssue[] {
  return err.issues.map((i) => {
    const base = issuePath(i.path, prefix);
    // Unknown keys are reported on the parent; name each one so the user sees the exact field.
    if (i.code === 'unrecognized_keys') {
      const keys = (i as { keys: string[] }).keys;
      return { path: keys.map((k) => (base ? `${base}.${k}` : k)).join(', '), message: `unknown field${keys.length > 1 ? 's' : ''} (not in the schema)` };
    }
    return { path: base, message: i.message };
  });
}

/** Parse or throw an InputError that names every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, origin: string, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new InputError(origin, toFieldIssues(r.error, prefix));
  return r.data;
}
