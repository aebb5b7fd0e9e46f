#!/usr/bin/env node
// The AWS SDK warns on every run under Node < 22 (its releases after January 2027 need 22); the
// CLI's stderr is for the user's errors. The pinned SDK works on Node 20: see the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
let main;
try {
  ({ main } = await import('../dist/src/cli/main.js'));
} catch (e) {
  // Not built, or a broken install: one line, not a loader stack (the stack with FLUXBURST_DEBUG=1).
  process.stderr.write(`error: cannot load fluxburst (${String(e?.message ?? e).split('\n')[0]}); run \`npm run build\`\n`);
  if (process.env.FLUXBURST_DEBUG || process.argv.includes('--debug')) process.stderr.write(`${e?.stack ?? e}\n`);
  process.exit(1);
}

// Exit once what was printed has reached the pipe: a big --json answer to a pipe is written
// asynchronously, and exiting at once would cut it short.
const flushThenExit = (code) => {
  const pending = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
  if (!pending.length) process.exit(code);
  let left = pending.length;
  for (const s of pending) s.once('drain', () => --left === 0 && process.exit(code));
};
main().then(flushThenExit, (e) => {
  process.stderr.write(`error: ${String(e?.message ?? e).split('\n')[0]}\n`);
  flushThenExit(1);
});
