import { createServer, type Server } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { freePort, onFreePort } from '../../src/temporal/ports.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});
const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => (servers.push(s), resolve(s)));
  });

it('a port taken between freePort() and the start (the race) is retried on a new port', async () => {
  // Someone takes the picked port before our server binds it.
  const taken = await freePort();
  await listen(taken);
  const picks = [taken];
  const s = await onFreePort(listen, { pick: async () => picks.shift() ?? freePort() });
  const port = (s.address() as { port: number }).port;
  expect(port).not.toBe(taken);
  expect(port).toBeGreaterThan(0);
});

it('other start failures are not retried; clashes are retried only so often', async () => {
  let calls = 0;
  await expect(onFreePort(async () => (calls++, Promise.reject(new Error('bad config'))))).rejects.toThrow('bad config');
  expect(calls).toBe(1);
  calls = 0;
  await expect(onFreePort(async () => (calls++, Promise.reject(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }))), { tries: 3 })).rejects.toThrow(/EADDRINUSE/);
  expect(calls).toBe(3);
});
