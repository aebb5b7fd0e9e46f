import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { InputError } from '../core/errors.js';

// Payloads are encrypted before they leave the client or worker, so a history holds ciphertext:
// job commands, plugin params and results are readable only with a key (and, in the UI, through
// the codec server). One key encrypts; every key listed decrypts, so keys can be rotated.

// CommonJS package: named exports are not visible to Node's ESM loader.
const { temporal } = proto;
const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : '');

export interface CodecKeys {
  /** The key id new payloads are encrypted with. */
  current: string;
  keys: Map<string, Buffer>;
}

/**
 * Keys from a file: one `id:base64` per line (32-byte keys, `openssl rand -base64 32`); the first
 * line is the current key unless `currentId` names another. Blank lines and `#` comments skipped.
 */
export function loadCodecKeys(path: string, currentId?: string): CodecKeys {
  let body: string;
  try {
    body = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError('codec keys', [{ path, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  const keys = new Map<string, Buffer>();
  body.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([\w.-]{1,64}):([A-Za-z0-9+/=]+)$/.exec(line);
    const key = m ? Buffer.from(m[2]!, 'base64') : undefined;
    if (!m || key?.length !== 32) throw new InputError('codec keys', [{ path: `${path}:${i + 1}`, message: 'expected `id:base64` of a 32-byte key' }]);
    if (keys.has(m[1]!)) throw new InputError('codec keys', [{ path: `${path}:${i + 1}`, message: `key id ${m[1]} listed twice` }]);
    keys.set(m[1]!, key!);
  });
  const current = currentId ?? keys.keys().next().value;
  if (!current) throw new InputError('codec keys', [{ path, message: 'no keys' }]);
  if (!keys.has(current)) throw new InputError('codec keys', [{ path: 'FLUXBURST_CODEC_KEY_ID', message: `no key "${current}" in ${path}` }]);
  return { current, keys };
}

export class AesGcmCodec implements PayloadCodec {
  constructor(private readonly k: CodecKeys) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const key = this.k.keys.get(this.k.current)!;
    return payloads.map((p) => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const data = Buffer.concat([iv, c.update(plain), c.final(), c.getAuthTag()]);
      return { metadata: { encoding: utf8(ENCODING), [KEY_ID]: utf8(this.k.current) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (text(p.metadata?.encoding) !== ENCODING) return p;
      const id = text(p.metadata?.[KEY_ID]);
      const key = this.k.keys.get(id);
      if (!key) throw new Error(`payload encrypted with key "${id}", which this process does not have`);
      const data = Buffer.from(p.data ?? new Uint8Array());
      const d = createDecipheriv('aes-256-gcm', key, data.subarray(0, 12));
      d.setAuthTag(data.subarray(data.length - 16));
      const plain = Buffer.concat([d.update(data.subarray(12, data.length - 16)), d.final()]);
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/** The data converter client and worker share: encryption when keys are configured. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const file = env.FLUXBURST_CODEC_KEYS;
  if (!file) return undefined;
  return { payloadCodecs: [new AesGcmCodec(loadCodecKeys(file, env.FLUXBURST_CODEC_KEY_ID || undefined))] };
}
