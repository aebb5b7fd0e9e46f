/** 53-bit hash of a string (two FNV-1a style 32-bit lanes), a safe integer. */
function strHash(s: string, seed = 0): number {
  let a = 0x811c9dc5 ^ seed;
  let b = 0x5bd1e995 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 13);
  }
  return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
}

/** murmur3's 32-bit finaliser: every input bit moves every output bit. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * `<name>-<nodes>n-<hash>`: unique for what the burst is (its set of jobs, its target chain, its
 * owner), stable for the same inputs in any job order, so starting the same burst twice lands on
 * the same workflow id. Each job id is hashed alone and the hashes are sorted as numbers, then
 * folded; no crypto is needed for an 8-hex-digit name, and a plan of thousands of bursts over
 * 100,000 jobs names them all in a few milliseconds.
 */
export function burstName(name: string, nodes: number, parts: { jobIds: string[]; plugins: string[]; owner: string }): string {
  const ids = new Float64Array(parts.jobIds.length);
  for (let i = 0; i < ids.length; i++) ids[i] = strHash(parts.jobIds[i]!);
  if (ids.length > 1) ids.sort();
  let h = mix(strHash(`${parts.owner}\u0000${parts.plugins.join('\u0000')}`, ids.length));
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    h = mix(h ^ (v % 0x100000000)) ^ mix(Math.floor(v / 0x100000000) + i);
  }
  return `${name}-${nodes}n-${mix(h).toString(16).padStart(8, '0')}`;
}
