import Ajv from 'ajv';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { strategicMerge } from './kustomize';
import { readYaml, REPO_ROOT } from './yaml-files';

// The file names draft-07 by its https URL, which Ajv does not know under that spelling.
const { $schema: _draft07, ...schema } = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../schemas/compose-spec.json'), 'utf8'),
);
const validateSpec = new Ajv({ allErrors: true, strict: false }).compile(schema);

/** Errors of a compose document against the Compose Specification schema (empty when valid). */
export function composeSchemaErrors(doc: unknown): string[] {
  if (validateSpec(doc)) return [];
  return (validateSpec.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}

export function readCompose(file: string): any {
  return readYaml(path.join(REPO_ROOT, file));
}

/**
 * `docker compose -f a -f b` for the fields our override uses: maps merge, scalars and lists
 * are replaced (Compose appends some lists, e.g. ports; the override sets none of those).
 */
export function mergeCompose(base: any, override: any): any {
  // A JSON round trip, not structuredClone: YAML aliases share objects that must be merged apart.
  const merged = JSON.parse(JSON.stringify(base));
  for (const [name, service] of Object.entries<any>(override.services ?? {})) {
    merged.services[name] = strategicMerge(merged.services[name] ?? {}, JSON.parse(JSON.stringify(service)));
  }
  return merged;
}
