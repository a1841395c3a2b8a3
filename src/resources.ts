import { fileURLToPath } from 'node:url';

/**
 * The repository's root, where the files the service reads at run time live (schema.graphql,
 * drizzle/, web/dist/). Found from this module's own URL: it sits at the top of src/, and in the
 * production bundle every file sits at the top of dist/ (scripts/build-server.ts), so one level
 * up is the root from the sources and from the build alike. A path relative to the module that
 * reads the file would not do: the bundle joins modules of every depth into one file.
 */
const ROOT = new URL('../', import.meta.url);

/** An absolute path to `relativePath` under the repository's root. */
export function resourcePath(relativePath: string): string {
  return fileURLToPath(new URL(relativePath, ROOT));
}
