/**
 * A named export of a CommonJS module loaded with `import()`. Node finds a CommonJS module's
 * named exports by reading its source, so under tsx (the tests) `{ dkimSign }` is there; in the
 * production build the module is bundled as ESM with a single default export, the module's
 * `exports` object, and the named one is a property of that. Reading only the first way left
 * DKIM signing and the SPF check broken in `npm start` while every test passed.
 */
export function namedExport<T>(module: unknown, name: string): T {
  const direct = (module as Record<string, unknown>)[name];
  const value = direct ?? ((module as { default?: Record<string, unknown> }).default ?? {})[name];
  if (typeof value !== 'function') throw new Error(`the module has no export "${name}"`);
  return value as T;
}
