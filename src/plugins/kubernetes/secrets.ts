// The shared CURVE certificate and munge key, copied into the burst namespace from where the
// target's params point (a worker-side credential or file, or an existing Secret). The values
// pass through the worker's memory only; params and history hold the references.
import { readFileSync } from 'node:fs';
import { InputError } from '../../core/errors.js';
import type { PluginContext } from '../contract.js';
import type { Kube } from './client.js';
import { fromKube, isConflict, kube } from './errors.js';
import type { SecretRef } from './params.js';

/** The secret's bytes. `binary`: a credential holds base64 (credentials are text); a file is raw. */
export async function readSecretRef(k: Kube, ref: SecretRef, field: string, defaultKey: string, binary: boolean, ctx: PluginContext): Promise<Buffer> {
  if ('credential' in ref) {
    const v = ctx.credentials[ref.credential];
    if (v === undefined) throw new InputError('kubernetes credentials', [{ path: `params.${field}.credential`, message: `no credential named ${ref.credential} in the target's credentials` }]);
    return binary ? Buffer.from(v.trim(), 'base64') : Buffer.from(v, 'utf8');
  }
  if ('file' in ref) {
    try {
      return readFileSync(ref.file);
    } catch (e) {
      throw new InputError('kubernetes secrets', [{ path: `params.${field}.file`, message: `cannot read ${ref.file} on this worker: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
    }
  }
  const s = await kube(`read secret ${ref.secret.namespace}/${ref.secret.name}`, () => k.core.readNamespacedSecret({ namespace: ref.secret.namespace, name: ref.secret.name }));
  const key = ref.secret.key ?? defaultKey;
  const b64 = s.data?.[key];
  if (b64 === undefined) throw new InputError('kubernetes secrets', [{ path: `params.${field}.secret.key`, message: `secret ${ref.secret.namespace}/${ref.secret.name} has no key ${key}` }]);
  return Buffer.from(b64, 'base64');
}

/** Create the Secret, or bring an earlier try's copy up to date (the namespace is the burst's own). */
export async function putSecret(k: Kube, namespace: string, name: string, key: string, value: Buffer, labels: Record<string, string>): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace, labels }, data: { [key]: value.toString('base64') } };
  try {
    await k.core.createNamespacedSecret({ namespace, body });
  } catch (e) {
    if (!isConflict(e)) throw fromKube(e, `create secret ${namespace}/${name}`);
    await kube(`replace secret ${namespace}/${name}`, () => k.core.replaceNamespacedSecret({ namespace, name, body }));
  }
}
