import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from 'yaml';

/** Repository root (tools/deploy-validation/src -> ../../..). */
export const REPO_ROOT = path.resolve(__dirname, '../../..');

/** Every document of a YAML file; throws with the file name on a syntax error. `merge` resolves `<<` keys. */
export function readYamlDocuments(file: string): any[] {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'), { merge: true });
  return docs
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${path.relative(REPO_ROOT, file)}: ${doc.errors[0].message}`);
      return doc.toJS({ maxAliasCount: 1000 });
    })
    .filter((value) => value !== null && value !== undefined);
}

export function readYaml(file: string): any {
  const [doc] = readYamlDocuments(file);
  return doc;
}

/** Every *.yaml / *.yml file under a folder. */
export function yamlFilesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => path.join(dir, name))
    .sort();
}
