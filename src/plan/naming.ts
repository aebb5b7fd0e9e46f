/** murmur3's 32-bit finaliser: every input bit moves every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Two 32-bit FNV-1a lanes of a string. */
function lanes(s: string, seed: number): [number, number] {
  let a = 0x811c9dc5 ^ seed;
  let b = 0x5bd1e995 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return [mix(a), mix(b)];
}

/**
 * `<name>-<nodes>n-<hash>`: unique for what the burst is (its set of jobs, its target chain, its
 * owner), stable for the same inputs in any job order, so starting the same burst twice lands on
 * the same workflow id. The job set is hashed as a multiset — a sum and an xor of per-id hashes,
 * which no order changes — so naming needs no sort and no crypto: thousands of bursts over
 * 100,000 jobs are named in a few milliseconds. 8 hex digits, like a truncated digest.
 */
export function burstName(name: string, nodes: number, parts: { jobIds: string[]; plugins: string[]; owner: string }): string {
  let sum = 0;
  let xor = 0;
  for (const id of parts.jobIds) {
    const [a, b] = lanes(id, 0x9e3779b9);
    sum = (sum + a) >>> 0;
    xor = (xor ^ b) >>> 0;
  }
  const [p] = lanes(`${parts.owner}\u0000${parts.plugins.join('\u0000')}`, parts.jobIds.length);
  const h = mix(mix(mix(p ^ sum) ^ xor) ^ parts.jobIds.length);
  return `${name}-${nodes}n-${h.toString(16).padStart(8, '0')}`;
}
