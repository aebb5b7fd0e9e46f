// The local Slurm cluster lives in src/slurm/local-cluster.ts so benchmarks can use it too.
export * from '../../src/slurm/local-cluster.js';
