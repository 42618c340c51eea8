// The published package runs without its devDependencies (`npm install floe` omits them): every
// module tsconfig.build.json compiles may import at run time only Node built-ins, its own files
// and packages listed in package.json "dependencies" — never tsx, avsc, typescript… Type-only
// imports are erased and do not count. Also checks that "exports", "types" and "bin" name the
// files the build emits. (test/integration/package-install.test.ts installs the real tarball.)
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>; devDependencies: Record<string, string>;
  exports: Record<string, string | { types: string; import: string }>; types: string; bin: Record<string, string>; files: string[];
};
const build = JSON.parse(readFileSync(path.join(REPO, 'tsconfig.build.json'), 'utf8')) as { include: string[]; compilerOptions: { outDir: string } };

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Module specifiers a file loads at run time: value imports/re-exports and import('literal'). */
function runtimeSpecifiers(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    // verbatimModuleSyntax keeps `import { type A } from 'x'` as a (side-effect) import of x: only `import type` is erased.
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) found.push(arg.text);
      else found.push('<computed import()>');
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const packageOf = (spec: string): string => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
const compiled = build.include.flatMap((d) => tsFiles(path.join(REPO, d)));

test('compiled modules import only dependencies, built-ins and their own files at run time', () => {
  assert.ok(compiled.length > 100, `tsconfig.build.json compiles ${compiled.length} files`);
  const builtins = new Set(builtinModules);
  const bad: string[] = [];
  const used = new Set<string>();
  for (const file of compiled) {
    for (const spec of runtimeSpecifiers(file)) {
      if (spec.startsWith('.')) continue;
      if (spec.startsWith('node:') || builtins.has(spec)) continue;
      const name = packageOf(spec);
      used.add(name);
      if (!(name in pkg.dependencies)) bad.push(`${path.relative(REPO, file)} imports '${spec}'${name in pkg.devDependencies ? ' (a devDependency)' : ' (not in dependencies)'}`);
    }
  }
  assert.deepEqual(bad, []);
  // Every dependency is needed at run time (else it belongs in devDependencies).
  assert.deepEqual(Object.keys(pkg.dependencies).filter((d) => !used.has(d)), []);
});

test('tsx and avsc are devDependencies only', () => {
  for (const name of ['tsx', 'avsc', 'typescript']) {
    assert.ok(!(name in pkg.dependencies), `${name} is not a run-time dependency`);
    assert.ok(name in pkg.devDependencies, `${name} is a devDependency`);
  }
});

test('exports, types and bin name the files tsc emits from api/ and bin/', () => {
  const emitted = (src: string): string => `./${path.posix.join(build.compilerOptions.outDir, src.replace(/\.ts$/, '.js'))}`;
  const entries = Object.entries(pkg.exports).filter(([k]) => k !== './package.json');
  assert.deepEqual(entries.map(([k]) => k).sort(), ['.', './compaction', './ingest']);
  for (const [key, target] of entries) {
    assert.equal(typeof target, 'object', `exports['${key}'] has types and import`);
    const { types, import: js } = target as { types: string; import: string };
    const source = `api/${key === '.' ? 'index' : key.slice(2)}.ts`;
    assert.ok(existsSync(path.join(REPO, source)), `${source} exists`);
    assert.equal(js, emitted(source));
    assert.equal(types, js.replace(/\.js$/, '.d.ts'));
  }
  assert.equal(pkg.types, (pkg.exports['.'] as { types: string }).types);
  assert.equal(`./${pkg.bin.floe}`, emitted('bin/floe-cli.ts'));
  assert.match(readFileSync(path.join(REPO, 'bin/floe-cli.ts'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  assert.ok(pkg.files.includes(build.compilerOptions.outDir), 'files ships the build output');
  for (const d of ['api', 'bin']) assert.ok(build.include.includes(d), `tsconfig.build.json compiles ${d}/`);
});
