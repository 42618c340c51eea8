// The public API is what api/index.ts (`floe`), api/ingest.ts (`floe/ingest`) and
// api/compaction.ts (`floe/compaction`) export. This test pins the exact list of names, so
// adding or removing one is a deliberate change of this file, and checks with the TypeScript
// compiler that every exported symbol carries a TSDoc comment — and so does every public method
// and accessor of an exported class or interface (the rule `npm run docs` enforces through
// TypeDoc's requiredToBeDocumented) — and that types are exported with `export type`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

const EXPECTED: Record<string, readonly string[]> = {
  'api/index.ts': [
    // catalogs and tables
    'openCatalog', 'CatalogConfig', 'Catalog', 'CommitTableOptions', 'CreateTableOptions', 'DropTableResult', 'LoadedTable', 'TableLocation',
    'TableRequirement', 'TableUpdate', 'FileIO', 'FileInfo', 'OutputFile', 'RandomAccessBlob',
    'parseTableIdentifier', 'identifierToString', 'TableIdentifier',
    // schemas, specs, metadata
    'Schema', 'schemaFromJson', 'schemaToJson', 'IcebergType', 'ListType', 'MapType', 'NestedField', 'NestedType',
    'PrimitiveType', 'PrimitiveTypeName', 'StructType', 'parsePartitionExpression', 'PartitionField', 'PartitionSpec',
    'Transform', 'SortField', 'SortOrder', 'currentSchema', 'defaultSpec', 'MAIN_BRANCH',
    'MetadataLogEntry', 'Snapshot', 'SnapshotLogEntry', 'SnapshotRef', 'TableMetadata',
    // writing rows
    'appendRecords', 'appendRecordStream', 'AppendOptions', 'AppendResult', 'RecordChunk', 'StreamAppendOptions', 'WriteStats',
    'mergeRecords', 'MergeOptions', 'MergeResult', 'MergeStats', 'deleteWhere', 'DeleteWhereOptions', 'DeleteWhereResult',
    'RowLevelMode', 'CommitHooks', 'CommitOptions', 'CommitResult', 'RetryPolicy',
    // branches and tags
    'createBranch', 'createTag', 'dropRef', 'renameBranch', 'setRefRetention',
    'CreateBranchOptions', 'CreateTagOptions', 'DropRefOptions', 'RefChange', 'RefRetention',
    // write-audit-publish
    'publishBranch', 'publishWapId', 'PublishOptions', 'PublishResult', 'PublishWapIdOptions', 'PublishedSnapshot', 'PublishKind',
    'auditAndPublish', 'GateOptions', 'GateResult', 'FailedCheckSummary',
    'CHECK_TYPES', 'loadAuditChecks', 'parseAuditChecks', 'AuditCheck', 'AuditChecks', 'AuditReport', 'CheckBase',
    'CheckLiteral', 'CheckResult', 'CheckScope', 'CheckSeverity', 'CheckType', 'JsonValue',
    // errors
    'FloeError', 'FloeErrorKind', 'ValidationError', 'RecordValidationError', 'InvalidMetadataError', 'NotFoundError',
    'AlreadyExistsError', 'NamespaceNotEmptyError', 'CommitConflictError', 'CommitStateUnknownError', 'FileIOError',
    'UnsupportedError', 'InternalError', 'ValueTypeError', 'DecodingError', 'PublishRefusedError', 'RefusalReason',
    'CherryPickConflictError',
  ],
  'api/ingest.ts': [
    'startIngest', 'RunningIngest', 'ingestConfigFrom', 'loadIngestConfig', 'parseIngestConfig', 'IngestConfig',
    'IngestConfigInput', 'TableIngestor', 'TableIngestorOptions', 'SourceRecord', 'SourcePosition', 'DeadLetter',
    'DeadLetterSink', 'IngestEvents', 'UpsertCounts', 'DEFAULT_BATCHER_CONFIG', 'BatcherConfig', 'FlushReason',
    'IngestMetrics', 'UpsertMergeOptions', 'WapBatchOptions', 'WapGate', 'WapGateResult', 'OffsetRange',
  ],
  'api/compaction.ts': [
    'compactTable', 'CompactOptions', 'CompactReport', 'CompactionEvent', 'startCompaction', 'CompactService',
    'CompactServiceOptions', 'expireSnapshots', 'ExpiringFile', 'ExpiringSnapshot', 'ExpiryDryRun', 'ExpiryOptions', 'ExpiryResult', 'removeOrphanFiles',
    'RemoveOrphansOptions', 'RemoveOrphansResult', 'rewriteManifests', 'RewriteManifestsResult',
    'rewritePositionDeletes', 'RewritePositionDeletesOptions', 'RewritePositionDeletesResult', 'runTableDoctor',
    'CHECK_NAMES', 'CheckName', 'CheckStatus', 'DoctorCheck', 'DoctorOptions', 'DoctorReport',
    'PlannerFile', 'RewriteGroup', 'RewriteJobOrder', 'RewritePlan',
  ],
};
const ENTRIES = Object.keys(EXPECTED);

const sorted = (names: readonly string[]): string[] => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Where a symbol is declared, for messages: `src/errors.ts:12`. */
function where(decl: ts.Declaration): string {
  const sf = decl.getSourceFile();
  return `${path.relative(REPO, sf.fileName)}:${sf.getLineAndCharacterOfPosition(decl.getStart()).line + 1}`;
}

function isOwnDeclaration(decl: ts.Declaration): boolean {
  return !decl.getSourceFile().fileName.includes('/node_modules/');
}

/** TSDoc text of a symbol ("" when it has none, or only tags). */
function docOf(symbol: ts.Symbol, checker: ts.TypeChecker): string {
  return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
}

function isInternal(symbol: ts.Symbol): boolean {
  return symbol.getJsDocTags().some((t) => t.name === 'internal');
}

describe('public API (floe, floe/ingest, floe/compaction)', () => {
  let program: ts.Program;
  let checker: ts.TypeChecker;
  const exportsOf = new Map<string, ts.Symbol[]>();

  before(() => {
    const cfg = ts.getParsedCommandLineOfConfigFile(path.join(REPO, 'tsconfig.json'), {}, {
      ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')); },
    });
    assert.ok(cfg);
    program = ts.createProgram(ENTRIES.map((e) => path.join(REPO, e)), cfg.options);
    checker = program.getTypeChecker();
    for (const entry of ENTRIES) {
      const sf = program.getSourceFile(path.join(REPO, entry));
      assert.ok(sf, entry);
      const moduleSymbol = checker.getSymbolAtLocation(sf);
      assert.ok(moduleSymbol, `${entry} is a module`);
      exportsOf.set(entry, checker.getExportsOfModule(moduleSymbol));
    }
  });

  for (const entry of ENTRIES) {
    it(`${entry} exports exactly the documented surface`, () => {
      assert.deepEqual(sorted(exportsOf.get(entry)!.map((s) => s.name)), sorted(EXPECTED[entry]!));
    });
  }

  it('no name is exported by two entry points', () => {
    const seen = new Map<string, string>();
    for (const [entry, names] of Object.entries(EXPECTED)) {
      for (const n of names) {
        assert.equal(seen.get(n), undefined, `${n} is exported by ${seen.get(n)} and ${entry}`);
        seen.set(n, entry);
      }
    }
  });

  it('every export has a TSDoc comment', () => {
    const missing: string[] = [];
    for (const [entry, symbols] of exportsOf) {
      for (const s of symbols) {
        const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
        if (!docOf(target, checker)) missing.push(`${entry}: ${s.name} (${target.declarations?.map(where).join(', ')})`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('every public method and accessor of an exported class or interface has a TSDoc comment', () => {
    const missing: string[] = [];
    for (const symbols of exportsOf.values()) {
      for (const s of symbols) {
        const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
        if (!(target.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))) continue;
        const instance = checker.getDeclaredTypeOfSymbol(target);
        const statics = target.flags & ts.SymbolFlags.Class ? checker.getTypeOfSymbol(target).getProperties() : [];
        for (const m of [...instance.getProperties(), ...statics]) {
          const decls = (m.declarations ?? []).filter(isOwnDeclaration);
          const callable = decls.filter((d) => ts.isMethodDeclaration(d) || ts.isMethodSignature(d) || ts.isGetAccessorDeclaration(d) || ts.isSetAccessorDeclaration(d));
          if (callable.length === 0 || isInternal(m) || m.name === 'prototype') continue;
          const hidden = callable.every((d) => ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) || d.name?.kind === ts.SyntaxKind.PrivateIdentifier);
          if (hidden) continue;
          if (!docOf(m, checker)) missing.push(`${s.name}.${m.name} (${callable.map(where).join(', ')})`);
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  it('types are exported with `export type`', () => {
    const wrong: string[] = [];
    for (const entry of ENTRIES) {
      const sf = program.getSourceFile(path.join(REPO, entry))!;
      for (const st of sf.statements) {
        if (!ts.isExportDeclaration(st) || !st.exportClause || !ts.isNamedExports(st.exportClause)) continue;
        for (const spec of st.exportClause.elements) {
          const typeOnly = st.isTypeOnly || spec.isTypeOnly;
          const local = checker.getSymbolAtLocation(spec.name);
          assert.ok(local, `${entry}: ${spec.name.text}`);
          const target = local.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(local) : local;
          const isValue = (target.flags & ts.SymbolFlags.Value) !== 0;
          // A class may be exported as a type on purpose (IngestMetrics: users get one, never make one).
          if (!isValue && !typeOnly) wrong.push(`${entry}: ${spec.name.text} is a type exported as a value: use export type`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('examples/ import floe only by its package names, never a path into the repository', () => {
    const dir = path.join(REPO, 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length >= 4, 'the four examples');
    const bad: string[] = [];
    for (const f of files) {
      const sf = ts.createSourceFile(f, readFileSync(path.join(dir, f), 'utf8'), ts.ScriptTarget.ES2022);
      for (const st of sf.statements) {
        if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
        const from = st.moduleSpecifier.text;
        if (!/^(floe(\/ingest|\/compaction)?|node:.+|kafkajs)$/.test(from)) bad.push(`${f}: ${from}`);
      }
    }
    assert.deepEqual(bad, []);
  });
});
