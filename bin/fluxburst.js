#!/usr/bin/env node
// The AWS SDK warns on every run under Node < 22 (its releases after January 2027 need 22); the
// CLI's stderr is for the user's errors. The pinned SDK works on Node 20: see the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../dist/src/cli/main.js');

// Exit once what was printed has reached the pipe: a big --json answer to a pipe is written
// asynchronously, and exiting at once would cut it short.
const flushThenExit = (code) => {
  const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
  if (!pending.length) process.exit(code);
  let left = pending.length;
  for (const s of pending) s.once('drain', () => --left === 0 && process.exit(code));
};
main().then(flushThenExit);
