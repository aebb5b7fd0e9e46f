// `fluxburst server --port P` where something already listens on P: the new dev server would exit
// at once while the health check found the other one answering, and the CLI reported "ready" for a
// server that was not its own (and wrote its dead pid to server.json). Now: an input error naming
// the flag, nothing started.
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import { portInUse, startDevServer } from '../../src/temporal/dev-server.js';

let busy: Server;
let port = 0;
const dir = mkdtempSync(join(tmpdir(), 'fb-devport-'));
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  port = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((r) => busy.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('dev server on a port in use', () => {
  it('portInUse tells a held port from a free one', async () => {
    expect(await portInUse('127.0.0.1', port)).toBe(true);
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const p = (free.address() as { port: number }).port;
    await new Promise((r) => free.close(r));
    expect(await portInUse('127.0.0.1', p)).toBe(false);
  });

  it('--port held by another process: InputError naming --port, no server started, no server.json', async () => {
    const e = await startDevServer({ stateDir: dir, port, headless: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).issues).toEqual([{ path: '--port', message: expect.stringContaining(`127.0.0.1:${port} is already in use`) }]);
    expect(existsSync(join(dir, 'server.json'))).toBe(false);
  });

  it('the UI port (port + 1000 unless --ui-port) held: InputError naming --ui-port', async () => {
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
    const grpc = (free.address() as { port: number }).port;
    await new Promise((r) => free.close(r));
    const e = await startDevServer({ stateDir: dir, port: grpc, uiPort: port }).catch((x: unknown) => x);
    if (!(e instanceof Error)) (e as { child: { kill(s: string): void } }).child.kill('SIGKILL'); // started after all: stop it
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).issues[0]!.path).toBe('--ui-port');
  });
});
