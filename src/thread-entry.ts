/**
 * How to start a worker thread whose entry module sits beside the module starting it (`host`,
 * that module's import.meta.url). In the production build (dist/, `npm start`) the entry is the
 * thread's own bundle, which scripts/build-server.ts writes at the top of dist/ beside the chunk
 * the host is bundled into; from the sources (tsx: tests, development), a two-line bootstrap that
 * registers tsx in the thread first, since Node 20 does not apply `--import tsx` to a worker's
 * entry module.
 */
export function threadEntry(host: string, name: string): { code: URL | string; eval: boolean } {
  if (host.endsWith('.js')) return { code: new URL(`./${name}.js`, host), eval: false };
  const entry = new URL(`./${name}.ts`, host).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return {
    code: `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`,
    eval: true,
  };
}
