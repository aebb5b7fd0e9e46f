#!/usr/bin/env node
// The AWS SDK warns on every run under Node < 22 (its releases after January 2027 need 22); the
// CLI's stderr is for the user's errors. The pinned SDK works on Node 20: see the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('../dist/src/cli/main.js');

main().then((code) => process.exit(code));
