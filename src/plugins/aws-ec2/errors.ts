import { CapacityError, FluxburstError, providerCode, TransientError } from '../../core/errors.js';

/**
 * EC2 error codes that mean "no capacity for this offering (or this account) right now". They
 * are final for the activity (Temporal must not retry them): the plugin itself moves on to the
 * next offering, and only when none is left does it fail with a CapacityError.
 */
export const CAPACITY_CODES: ReadonlySet<string> = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'MaxSpotInstanceCountExceeded',
  'SpotMaxPriceTooLow',
  'Unsupported',
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'InsufficientFreeAddressesInSubnet',
]);

/** Codes that limit a whole capacity type for the account, not one type×subnet offering. */
export const ACCOUNT_LIMIT_CODES: ReadonlySet<string> = new Set(['MaxSpotInstanceCountExceeded', 'InstanceLimitExceeded', 'VcpuLimitExceeded']);

/** "Already gone": success for teardown. */
export const NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  'InvalidLaunchTemplateName.NotFoundException',
  'InvalidLaunchTemplateId.NotFound',
  'InvalidLaunchTemplateId.Malformed',
  'InvalidInstanceID.NotFound',
  'InvalidPlacementGroup.Unknown',
  'InvalidFleetId.NotFound',
  'InvalidGroup.NotFound',
]);

/**
 * Refusals that no retry changes (credentials, permissions, a wrong AMI or subnet, a bad
 * request): the step fails at once with the EC2 code instead of burning retries.
 */
export const PERMANENT_CODES: ReadonlySet<string> = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'OptInRequired',
  'Blocked',
  'InvalidAMIID.NotFound',
  'InvalidAMIID.Malformed',
  'InvalidSubnetID.NotFound',
  'InvalidSecurityGroupID.NotFound',
  'InvalidKeyPair.NotFound',
  'InvalidParameterValue',
  'MissingParameter',
  'IdempotentParameterMismatch',
  'InvalidFleetConfig',
]);

/** The EC2 error code of an SDK error (its `name`, or `Code` on older shapes). */
export function ec2Code(e: unknown): string | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const o = e as { name?: unknown; Code?: unknown; code?: unknown };
  for (const v of [o.Code, o.code, o.name]) if (typeof v === 'string' && v && v !== 'Error') return v;
  return undefined;
}

export const isCapacityCode = (code: string | undefined): boolean => code !== undefined && CAPACITY_CODES.has(code);
export const isNotFound = (e: unknown): boolean => NOT_FOUND_CODES.has(ec2Code(e) ?? '');

/** Our error for an EC2 failure: capacity codes → CapacityError (code = the EC2 code), the rest retryable. */
export function fromEc2(e: unknown, what: string): FluxburstError {
  if (e instanceof FluxburstError) return e;
  const code = ec2Code(e);
  const msg = `${what}: ${code ? `${code}: ` : ''}${(e as Error)?.message ?? String(e)}`;
  if (code && isCapacityCode(code)) return new CapacityError(msg, providerCode(code));
  if (code && PERMANENT_CODES.has(code)) return new FluxburstError(providerCode(code), msg, { retryable: false, cause: e });
  return new TransientError(msg, e);
}

/** Run an EC2 call; map its failure. */
export async function ec2<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw fromEc2(e, what);
  }
}

/** Run a delete; "already gone" is success. */
export async function ec2Delete(what: string, fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw fromEc2(e, what);
  }
}
