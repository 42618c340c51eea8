// A fresh warehouse folder with its SQLite catalog for one test, removed afterwards
// (kept when FLOE_KEEP_TEST_DATA is set, for post-mortems).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCatalog } from '../../catalog/index.ts';
import type { Catalog } from '../../src/table/catalog.ts';

export interface TestWarehouse {
  readonly dir: string;
  readonly catalogDb: string;
  readonly catalog: Catalog;
  cleanup(): Promise<void>;
}

export async function testWarehouse(prefix = 'floe-test-'): Promise<TestWarehouse> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const catalog = await openCatalog({ warehouse: dir });
  return {
    dir,
    catalogDb: path.join(dir, 'catalog.db'),
    catalog,
    async cleanup() {
      await catalog.close();
      if (!process.env.FLOE_KEEP_TEST_DATA) rmSync(dir, { recursive: true, force: true });
    },
  };
}
