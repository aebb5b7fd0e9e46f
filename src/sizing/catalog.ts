// Catalog lookup for a target: the shipped instance-type catalog narrowed to one provider and
// region (and to a list of type names, when a target pins them). Used by every plugin that sizes
// from the catalog (aws-ec2, gke) and by nothing that provisions: pure data.
import { loadCatalog } from '../catalog/catalog.js';
import type { Catalog, Provider } from '../catalog/types.js';

export function regionalCatalog(provider: Provider, region: string, only?: readonly string[]): Catalog {
  const all = loadCatalog();
  const names = only ? new Set(only) : undefined;
  return Object.freeze({
    asOf: all.asOf,
    types: all.types.filter((t) => t.provider === provider && t.region === region && (!names || names.has(t.name))),
  });
}
