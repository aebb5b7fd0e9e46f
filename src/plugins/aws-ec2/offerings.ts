// Karpenter's UnavailableOfferings, in small: an offering (instance type × subnet/AZ × capacity
// type) that answered with a capacity error is skipped for a while (3 min), so the next try, of
// this burst or another on this worker, goes straight to an offering that may work.

export type CapacityKind = 'spot' | 'on-demand';

export interface Offering {
  instanceType: string;
  subnetId: string;
  capacityType: CapacityKind;
}

export const DEFAULT_TTL_MS = 3 * 60_000;

export class UnavailableOfferings {
  private readonly until = new Map<string, { at: number; reason: string }>();
  constructor(
    readonly ttlMs = DEFAULT_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  private static key(t: string, subnet: string, ct: CapacityKind): string {
    return `${ct}|${t}|${subnet}`;
  }

  /** Mark one offering; `*` as type or subnet marks every type or subnet. */
  markUnavailable(o: { instanceType: string; subnetId: string; capacityType: CapacityKind }, reason: string): void {
    this.until.set(UnavailableOfferings.key(o.instanceType, o.subnetId, o.capacityType), { at: this.now() + this.ttlMs, reason });
  }

  /** Why the offering is unavailable, or undefined when it may be tried. */
  unavailable(o: Offering): string | undefined {
    const now = this.now();
    for (const k of [
      UnavailableOfferings.key(o.instanceType, o.subnetId, o.capacityType),
      UnavailableOfferings.key(o.instanceType, '*', o.capacityType),
      UnavailableOfferings.key('*', o.subnetId, o.capacityType),
      UnavailableOfferings.key('*', '*', o.capacityType),
    ]) {
      const e = this.until.get(k);
      if (!e) continue;
      if (e.at <= now) this.until.delete(k);
      else return e.reason;
    }
    return undefined;
  }

  isUnavailable(o: Offering): boolean {
    return this.unavailable(o) !== undefined;
  }

  clear(): void {
    this.until.clear();
  }

  get size(): number {
    return this.until.size;
  }
}

/** The worker-wide cache. */
export const unavailableOfferings = new UnavailableOfferings();
