import { createServer } from 'node:http';
import type { Command } from 'commander';
import type { Payload } from '@temporalio/common';
import { InputError } from '../../core/errors.js';
import { AesGcmCodec, loadCodecKeys } from '../../temporal/codec.js';
import { intArg } from '../common.js';

type WirePayload = { metadata?: Record<string, string>; data?: string };
const fromWire = (p: WirePayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toWire = (p: Payload): WirePayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/**
 * Temporal's remote codec protocol (POST /encode, /decode with `{payloads: [...]}` in proto-JSON),
 * so the Temporal UI (`--ui-codec-endpoint`) and `temporal` CLI can show decrypted payloads to
 * people who can reach this server. Keys come from FLUXBURST_CODEC_KEYS, as for workers.
 */
export function registerCodec(program: Command): void {
  program
    .command('codec-server')
    .description('Serve the payload codec to the Temporal UI (decrypts what workers encrypted).')
    .option('--port <n>', 'port', intArg('--port', 1, 65535), 8888)
    .option('--ip <ip>', 'address to bind', '127.0.0.1')
    .option('--origin <url>', 'the UI origin allowed to call (CORS)', 'http://localhost:8233')
    .action(async (o: { port: number; ip: string; origin: string }) => {
      const file = process.env.FLUXBURST_CODEC_KEYS;
      if (!file) throw new InputError('environment', [{ path: 'FLUXBURST_CODEC_KEYS', message: 'set it to the key file the workers use' }]);
      const codec = new AesGcmCodec(loadCodecKeys(file, process.env.FLUXBURST_CODEC_KEY_ID || undefined));
      const server = createServer(async (req, res) => {
        res.setHeader('Access-Control-Allow-Origin', o.origin);
        res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
        res.setHeader('Access-Control-Allow-Credentials', 'true');
        if (req.method === 'OPTIONS') return res.writeHead(204).end();
        const op = req.url === '/encode' ? 'encode' : req.url === '/decode' ? 'decode' : undefined;
        if (req.method !== 'POST' || !op) return res.writeHead(404).end();
        let body = '';
        for await (const chunk of req) body += chunk;
        try {
          const { payloads } = JSON.parse(body) as { payloads: WirePayload[] };
          const out = await codec[op](payloads.map(fromWire));
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ payloads: out.map(toWire) }));
        } catch (e) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end((e as Error).message);
        }
      });
      await new Promise<void>((resolve) => server.listen(o.port, o.ip, resolve));
      process.stdout.write(`codec server on http://${o.ip}:${o.port} (UI origin ${o.origin}); start the dev server with --codec-endpoint http://${o.ip}:${o.port}\n`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      server.close();
    });
}
