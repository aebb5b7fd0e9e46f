import { createServer } from 'node:net';

/** A port free on loopback right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const PORT_CLASH = /EADDRINUSE|address already in use|another process answers/i;

/**
 * Start something on a port picked by freePort(), again on a new port when the start failed
 * because the port was taken in between (freePort() closes its socket before the child binds:
 * a race). For children that cannot bind port 0 and report the port themselves.
 */
export async function onFreePort<T>(
  start: (port: number) => Promise<T>,
  o: { tries?: number; clash?: (e: unknown) => boolean; pick?: () => Promise<number> } = {},
): Promise<T> {
  const tries = o.tries ?? 5;
  const clash = o.clash ?? ((e: unknown) => PORT_CLASH.test(String((e as { code?: string })?.code ?? '') + ' ' + String((e as Error)?.message ?? e)));
  for (let i = 1; ; i++) {
    const port = await (o.pick ?? freePort)();
    try {
      return await start(port);
    } catch (e) {
      if (i >= tries || !clash(e)) throw e;
    }
  }
}
