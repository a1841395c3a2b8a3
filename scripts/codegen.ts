// Writes the resolver types codegen.ts describes; with --check, fails instead when the file on
// disk differs from what schema.graphql gives (a schema change without `npm run codegen`).
import { codegen } from '@graphql-codegen/core';
import * as typescript from '@graphql-codegen/typescript';
import * as typescriptResolvers from '@graphql-codegen/typescript-resolvers';
import { buildSchema, lexicographicSortSchema, parse, printSchema } from 'graphql';
import { readFileSync, writeFileSync } from 'node:fs';
import { config, outputFile, schemaFile } from '../codegen.ts';

// The plugins, run in this order.
const pluginMap = { typescript, 'typescript-resolvers': typescriptResolvers };

// Sorted as the CLI's loader sorts it, so the output keeps the order it always had.
const schemaAst = lexicographicSortSchema(buildSchema(readFileSync(schemaFile, 'utf8')));

const generated = await codegen({
  filename: outputFile,
  schema: parse(printSchema(schemaAst)),
  schemaAst,
  documents: [],
  config,
  plugins: Object.keys(pluginMap).map((name) => ({ [name]: {} })),
  pluginMap,
});

if (process.argv.includes('--check')) {
  const onDisk = readFileSync(outputFile, 'utf8');
  if (onDisk !== generated) {
    console.error(`${outputFile} is out of date with ${schemaFile}: run \`npm run codegen\`.`);
    process.exit(1);
  }
  console.log(`${outputFile} matches ${schemaFile}.`);
} else {
  writeFileSync(outputFile, generated);
  console.log(`wrote ${outputFile}`);
}
