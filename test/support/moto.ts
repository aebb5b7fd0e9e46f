// One implementation for tests and benches (the benches run from dist/ and cannot import test/).
export { ec2Client, motoAvailable, motoBase, startMoto } from '../../bench/support/moto.js';
export type { CapacityErrorCode, CapacityType, Moto, UnavailableCapacity } from '../../bench/support/moto.js';
