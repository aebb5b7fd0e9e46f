import { EC2Client } from '@aws-sdk/client-ec2';
import type { AwsEc2Params } from './params.js';

/**
 * One EC2 client per (region, endpoint, access key). Credentials: `ctx.credentials` when the
 * target names AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (tests, explicit keys), else the SDK's
 * normal chain (env, shared config/SSO, web identity, instance/container role). Throttling and
 * 5xx are retried by the SDK itself (adaptive mode: exponential backoff with a client-side rate
 * limiter), never by a loop of ours.
 */
const clients = new Map<string, EC2Client>();

type Ec2CallListener = (action: string) => void;
const callListeners = new Set<Ec2CallListener>();

/**
 * Observe every EC2 call the plugin's clients send (the action name, e.g. "CreateFleet"), once per
 * command, not per SDK retry: the API-call budget of a burst is measured with this (bench/ec2-calls.ts).
 * Returns the unsubscribe function.
 */
export function onEc2Call(listener: Ec2CallListener): () => void {
  callListeners.add(listener);
  return () => void callListeners.delete(listener);
}

export function ec2Client(p: Pick<AwsEc2Params, 'region' | 'endpoint'>, credentials?: Record<string, string>): EC2Client {
  const id = credentials?.AWS_ACCESS_KEY_ID;
  const secret = credentials?.AWS_SECRET_ACCESS_KEY;
  const explicit = id && secret ? { accessKeyId: id, secretAccessKey: secret, ...(credentials?.AWS_SESSION_TOKEN ? { sessionToken: credentials.AWS_SESSION_TOKEN } : {}) } : undefined;
  const key = `${p.region}|${p.endpoint ?? ''}|${id ?? ''}|${explicit ? hashish(secret! + (explicit.sessionToken ?? '')) : ''}`;
  let c = clients.get(key);
  if (!c) {
    c = new EC2Client({
      region: p.region,
      ...(p.endpoint ? { endpoint: p.endpoint } : {}),
      ...(explicit ? { credentials: explicit } : {}),
      maxAttempts: Number(process.env.FLUXBURST_AWS_MAX_ATTEMPTS ?? 6),
      retryMode: 'adaptive',
    });
    // Added once per client (clients are cached); a listener that throws must not fail the call.
    c.middlewareStack.add(
      (next, context) => async (args) => {
        for (const l of callListeners) {
          try {
            l(String(context.commandName ?? 'unknown').replace(/Command$/, ''));
          } catch {
            /* an observer only */
          }
        }
        return next(args);
      },
      { step: 'initialize', name: 'fluxburstCallCounter' },
    );
    if (clients.size > 32) clients.clear();
    clients.set(key, c);
  }
  return c;
}

/** Not a security hash: only keeps distinct secrets from sharing a cached client. */
function hashish(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h.toString(36);
}
