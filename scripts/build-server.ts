// `npm run build:server`: the production build in dist/, what `npm start` runs. The service and
// its threads are bundled with their dependencies (esbuild), so that start-up reads a
// few dozen files instead of about a thousand modules: Node's module loading (resolving, reading,
// compiling one module at a time) was most of the start. Types are checked by `npm run check`,
// not here.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = fileURLToPath(new URL('../dist', import.meta.url));

/**
 * Apollo hashes every query (its document cache's key) with `@apollo/utils.createhash`, which
 * takes node:crypto only where `module.require` exists: a bundled CommonJS module has none, so
 * the build fell back to sha.js, a SHA-256 in JavaScript (~2 % of the main thread at 16
 * clients). The package is node:crypto's createHash under another name.
 */
const nodeCryptoHash: Plugin = {
  name: 'node-crypto-hash',
  setup(esbuild) {
    esbuild.onResolve({ filter: /^@apollo\/utils\.createhash$/ }, () => ({
      path: 'node:crypto',
      external: true,
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  // Every entry at the top of dist/, beside their chunks: src/resources.ts finds the
  // repository's root one level up from any of them, and each thread's host finds its thread's
  // entry beside itself (src/thread-entry.ts).
  entryPoints: {
    main: 'src/main.ts',
    'delivery-thread': 'src/delivery/delivery-thread.ts',
    'count-thread': 'src/db/sqlite/count-thread.ts',
  },
  outdir,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  // Code both threads load is in shared chunks, and what the service imports only when needed
  // (the PostgreSQL adapter, mailparser, DKIM signing) stays in chunks of its own, loaded then.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  // ES module builds first where a package has both (graphql): the CommonJS one is wrapped for
  // every importing module, copying its hundreds of exports each time (~0.15 s of start-up).
  mainFields: ['module', 'main'],
  // A native addon (found through its own package's paths) and optional native helpers that
  // the packages load only if installed.
  external: ['better-sqlite3', 'pg-native', 'bufferutil', 'utf-8-validate'],
  plugins: [nodeCryptoHash],
  // Bundled CommonJS packages call require() for Node's built-ins; an ES module has none.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  // Stack traces point at src/ (see src/source-maps.ts): maps as files beside the code, without
  // the sources' text.
  sourcemap: 'linked',
  sourcesContent: false,
  // Less for V8 to scan at load (~0.1 s less start-up); names are kept, and the maps give lines.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
});
