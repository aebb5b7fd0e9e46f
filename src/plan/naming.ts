import { createHash } from 'node:crypto';

/**
 * `<name>-<nodes>n-<hash>`: unique for what the burst is (its jobs, plugins, owner), stable for
 * the same inputs, so starting the same burst twice lands on the same workflow id.
 */
export function burstName(name: string, nodes: number, parts: { jobIds: string[]; plugins: string[]; owner: string }): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ jobs: [...parts.jobIds].sort(), plugins: parts.plugins, owner: parts.owner }));
  return `${name}-${nodes}n-${h.digest('hex').slice(0, 8)}`;
}
