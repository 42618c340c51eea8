// The Catalog interface over an Iceberg REST catalog service (rest-catalog-open-api.yaml).
// The server owns the pointer and writes every metadata file; floe writes data files, manifests
// and manifest lists through its own FileIO into the location the server hands back, and sends
// commits as the spec's requirements + updates. 409 CommitFailed becomes CommitConflictError
// (the core's retry loop reloads and retries); a 5xx, a timeout or a lost answer on a commit
// becomes CommitStateUnknownError (the core keeps the files and looks for its snapshot).
// Java servers do not refuse overlapping table locations: floe checks before and after each
// create/register and before a set-location, as its SQL catalog does.
import PQueue from 'p-queue';
import {
  AlreadyExistsError, CommitConflictError, CommitStateUnknownError, FloeError, NamespaceNotEmptyError, NotFoundError,
  ValidationError,
} from '../../src/errors.ts';
import { deleteAll, type FileIO } from '../../src/io/file-io.ts';
import { stringifyJsonExact } from '../../src/spec/json.ts';
import { partitionSpecToJson } from '../../src/spec/partition-spec.ts';
import { schemaToJson } from '../../src/spec/schema.ts';
import { sortOrderToJson } from '../../src/spec/sort-order.ts';
import { parseTableMetadata, type TableMetadata } from '../../src/spec/table-metadata.ts';
import { checkRequirements, type TableRequirement, type TableUpdate } from '../../src/spec/table-updates.ts';
import type { Catalog, CommitTableOptions, CreateTableOptions, DropTableResult, LoadedTable } from '../../src/table/catalog.ts';
import {
  identifierToString, namespaceToString, validateIdentifier, validateNamePart, type TableIdentifier,
} from '../../src/table/identifier.ts';
import { overlappingTable, validateTableLocation, type TableLocation } from '../../src/table/table-location.ts';
import { checkLocationFree, overlapError, type LocationCheck } from '../location-check.ts';
import { purgeFiles, removeEmptyTableFolders } from '../purge-files.ts';
import { RestHttp, RestTransportError, oneLine, restError, type RestAuth, type RestResponse } from './rest-http.ts';
import { normalizeFileUri, normalizeMetadataUris, requirementToJson, updateToJson } from './rest-json.ts';

export interface RestCatalogOptions {
  /** `http(s)://host:port[/path]`: the base the spec's `/v1/…` paths hang under. */
  readonly uri: string;
  /** The FileIO, or a factory given the merged config (server defaults < client < overrides),
   * whose storage settings (s3.endpoint, …) the server may supply. */
  readonly io: FileIO | ((properties: Readonly<Record<string, string>>) => FileIO);
  /** Client-side properties (s3.* settings): between the server's defaults and its overrides. */
  readonly properties?: Readonly<Record<string, string>>;
  readonly name?: string;
  /** Sent as `?warehouse=` to GET /v1/config (servers that host many warehouses pick one by it). */
  readonly warehouse?: string;
  readonly auth?: RestAuth;
  readonly timeoutMs?: number;
}

/** Namespace parts joined by the unit separator (0x1F), as the spec puts them in a path. */
function nsPath(ns: readonly string[]): string {
  return ns.map(encodeURIComponent).join('%1F');
}

export class RestCatalog implements Catalog {
  readonly name: string;
  readonly io: FileIO;
  private readonly http: RestHttp;
  /** `/v1` or `/v1/<prefix>` (from the config endpoint). */
  private readonly root: string;
  /** Merged config: server defaults < client < server overrides. */
  readonly properties: Readonly<Record<string, string>>;
  /** Metadata files never change once written, so parsed metadata is kept by location (as the
   * SQL catalog does): a table of 1,000 snapshots costs ~20 ms of CPU to parse, and a writer that
   * loses a race loads the same version several times (naming the failed requirement, looking
   * whether its snapshot landed, retrying), 8 writers on one table mostly parsing. */
  private readonly metadataCache = new Map<string, TableMetadata>();

  private constructor(name: string, io: FileIO, http: RestHttp, prefix: string | undefined, properties: Record<string, string>) {
    this.name = name;
    this.io = io;
    this.http = http;
    this.root = prefix ? `/v1/${prefix.split('/').map(encodeURIComponent).join('/')}` : '/v1';
    this.properties = properties;
  }

  /** Reads GET /v1/config; fails with one line when the server cannot be reached or refuses us. */
  static async open(opts: RestCatalogOptions): Promise<RestCatalog> {
    let base: URL;
    try {
      base = new URL(opts.uri);
    } catch {
      throw new ValidationError(`invalid REST catalog URI '${opts.uri}': expected http://host:port[/path]`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new ValidationError(`invalid REST catalog URI '${opts.uri}': expected http:// or https://`);
    }
    const http = new RestHttp(opts.uri, opts.auth, opts.timeoutMs);
    const query = opts.warehouse !== undefined ? `?warehouse=${encodeURIComponent(opts.warehouse)}` : '';
    const res = await http.request('GET', `/v1/config${query}`);
    if (res.status !== 200) {
      throw new FloeError('io', `REST catalog ${http.baseUri}: GET /v1/config answered ${res.status}${describe(res)}; is this an Iceberg REST catalog?`);
    }
    const body = res.body as { defaults?: Record<string, string>; overrides?: Record<string, string> } | undefined;
    if (!body || typeof body !== 'object') throw new FloeError('io', `REST catalog ${http.baseUri}: GET /v1/config answered without a config object`);
    const props: Record<string, string> = {
      ...(body.defaults ?? {}), ...(opts.properties ?? {}),
      ...(opts.warehouse !== undefined ? { warehouse: opts.warehouse } : {}), ...(body.overrides ?? {}),
    };
    const io = typeof opts.io === 'function' ? opts.io(props) : opts.io;
    return new RestCatalog(opts.name ?? 'rest', io, http, props.prefix, props);
  }

  // --- namespaces ------------------------------------------------------------------------

  async createNamespace(namespace: readonly string[], properties: Record<string, string> = {}): Promise<void> {
    for (const p of namespace) validateNamePart(p, 'namespace name');
    const res = await this.http.request('POST', `${this.root}/namespaces`, { namespace, properties });
    if (res.status === 200) return;
    if (res.status === 409) throw new AlreadyExistsError(`namespace '${namespaceToString(namespace)}' already exists`);
    throw this.unexpected('create namespace', namespaceToString(namespace), res);
  }

  async namespaceExists(namespace: readonly string[]): Promise<boolean> {
    for (const p of namespace) validateNamePart(p, 'namespace name');
    const res = await this.http.request('HEAD', `${this.root}/namespaces/${nsPath(namespace)}`);
    if (res.status === 200 || res.status === 204) return true;
    if (res.status === 404) return false;
    throw this.unexpected('check namespace', namespaceToString(namespace), res);
  }

  async listNamespaces(parent: readonly string[] = []): Promise<string[][]> {
    const out: string[][] = [];
    for (const page of await this.pages(`${this.root}/namespaces`, parent.length > 0 ? `parent=${nsPath(parent)}` : '', 'namespaces', namespaceToString(parent))) {
      out.push(...(page as string[][]));
    }
    return out.sort((a, b) => namespaceToString(a).localeCompare(namespaceToString(b)));
  }

  async loadNamespaceProperties(namespace: readonly string[]): Promise<Record<string, string>> {
    const res = await this.http.request('GET', `${this.root}/namespaces/${nsPath(namespace)}`);
    if (res.status === 200) return { ...((res.body as { properties?: Record<string, string> }).properties ?? {}) };
    if (res.status === 404) throw new NotFoundError(`namespace '${namespaceToString(namespace)}' does not exist`);
    throw this.unexpected('load namespace', namespaceToString(namespace), res);
  }

  async updateNamespaceProperties(namespace: readonly string[], set: Record<string, string>, remove: readonly string[] = []): Promise<void> {
    const res = await this.http.request('POST', `${this.root}/namespaces/${nsPath(namespace)}/properties`, { updates: set, removals: [...remove] });
    if (res.status === 200) return;
    if (res.status === 404) throw new NotFoundError(`namespace '${namespaceToString(namespace)}' does not exist`);
    throw this.unexpected('update namespace properties', namespaceToString(namespace), res);
  }

  async dropNamespace(namespace: readonly string[]): Promise<void> {
    const label = namespaceToString(namespace);
    // Servers differ on child namespaces (Java's JdbcCatalog drops a parent with children):
    // refuse it here like every other floe catalog.
    if (!(await this.namespaceExists(namespace))) throw new NotFoundError(`namespace '${label}' does not exist`);
    if ((await this.listNamespaces(namespace)).length > 0) throw new NamespaceNotEmptyError(`namespace '${label}' is not empty`);
    const res = await this.http.request('DELETE', `${this.root}/namespaces/${nsPath(namespace)}`);
    if (res.status === 200 || res.status === 204) return;
    if (res.status === 404) throw new NotFoundError(`namespace '${label}' does not exist`);
    if (res.status === 409) throw new NamespaceNotEmptyError(`namespace '${label}' is not empty`);
    throw this.unexpected('drop namespace', label, res);
  }

  // --- tables ----------------------------------------------------------------------------

  async listTables(namespace: readonly string[]): Promise<TableIdentifier[]> {
    const out: TableIdentifier[] = [];
    for (const page of await this.pages(`${this.root}/namespaces/${nsPath(namespace)}/tables`, '', 'identifiers', namespaceToString(namespace))) {
      for (const id of page as { namespace: string[]; name: string }[]) out.push({ namespace: id.namespace, name: id.name });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async tableExists(id: TableIdentifier): Promise<boolean> {
    validateIdentifier(id);
    const res = await this.http.request('HEAD', this.tablePath(id));
    if (res.status === 200 || res.status === 204) return true;
    if (res.status === 404) return false;
    throw this.unexpected('check table', identifierToString(id), res);
  }

  async loadTable(id: TableIdentifier): Promise<LoadedTable> {
    validateIdentifier(id);
    const res = await this.http.request('GET', this.tablePath(id));
    if (res.status === 200) return this.loaded(id, res);
    if (res.status === 404) throw this.notFound(id, res);
    throw this.unexpected('load table', identifierToString(id), res);
  }

  async createTable(id: TableIdentifier, opts: CreateTableOptions): Promise<LoadedTable> {
    validateIdentifier(id);
    const location = opts.location === undefined ? undefined : validateTableLocation(opts.location);
    if (location !== undefined) await checkLocationFree(this.locationCheck(), id, location, { mustBeEmpty: true });
    const res = await this.http.request('POST', `${this.root}/namespaces/${nsPath(id.namespace)}/tables`, {
      name: id.name,
      schema: schemaToJson(opts.schema),
      ...(location !== undefined ? { location } : {}),
      ...(opts.spec !== undefined ? { 'partition-spec': partitionSpecToJson(opts.spec) } : {}),
      ...(opts.sortOrder !== undefined ? { 'write-order': sortOrderToJson(opts.sortOrder) } : {}),
      properties: opts.properties ?? {},
      'stage-create': false,
    });
    if (res.status === 409) throw new AlreadyExistsError(`table '${identifierToString(id)}' already exists`);
    if (res.status === 404) throw new NotFoundError(`namespace '${namespaceToString(id.namespace)}' does not exist`);
    if (res.status !== 200) throw this.unexpected('create table', identifierToString(id), res);
    const created = this.loaded(id, res);
    await this.recheckAfterCreate(created, true);
    return created;
  }


  /** After a create or register: an overlap that slipped past the first check (a default
   * location the server chose, or a racing create) removes the new entry again. */
  private async recheckAfterCreate(t: LoadedTable, ownsMetadataFile: boolean): Promise<void> {
    const clash = await this.overlapping(t.metadata.location, identifierToString(t.identifier));
    if (!clash) return;
    await this.http.request('DELETE', this.tablePath(t.identifier)).catch(() => undefined);
    if (ownsMetadataFile) await this.io.delete(t.metadataLocation).catch(() => undefined);
    throw overlapError(t.identifier, t.metadata.location, clash);
  }

  private locationCheck(): LocationCheck {
    return { io: this.io, overlapping: (location, self) => this.overlapping(location, self), tableExists: (id) => this.tableExists(id) };
  }

  private async overlapping(location: string, self: string): Promise<TableLocation | undefined> {
    const tables = await this.listTableLocations();
    const written = overlappingTable(normalizeFileUri(location), tables, self);
    if (written || !this.io.canonicalLocation) return written;
    const canonical = this.io.canonicalLocation.bind(this.io);
    const real = await Promise.all(tables.map(async (t) => ({ ...t, location: await canonical(t.location) })));
    const hit = overlappingTable(await canonical(location), real, self);
    return hit ? tables.find((t) => t.identifier === hit.identifier) : undefined;
  }

  async registerTable(id: TableIdentifier, metadataLocation: string): Promise<LoadedTable> {
    validateIdentifier(id);
    if (!(await this.namespaceExists(id.namespace))) throw new NotFoundError(`namespace '${namespaceToString(id.namespace)}' does not exist`);
    if (!(await this.io.exists(metadataLocation))) throw new NotFoundError(`metadata file ${metadataLocation} does not exist`);
    const registering = parseTableMetadata(new TextDecoder().decode(await this.io.read(metadataLocation)), metadataLocation);
    await checkLocationFree(this.locationCheck(), id, validateTableLocation(registering.location), { mustBeEmpty: false });
    const res = await this.http.request('POST', `${this.root}/namespaces/${nsPath(id.namespace)}/register`, { name: id.name, 'metadata-location': metadataLocation });
    if (res.status === 409) throw new AlreadyExistsError(`table '${identifierToString(id)}' already exists`);
    if (res.status === 404) throw this.notFound(id, res);
    if (res.status !== 200) throw this.unexpected('register table', identifierToString(id), res);
    const registered = this.loaded(id, res);
    await this.recheckAfterCreate(registered, false);
    return registered;
  }

  async renameTable(from: TableIdentifier, to: TableIdentifier): Promise<void> {
    validateIdentifier(from);
    validateIdentifier(to);
    const res = await this.http.request('POST', `${this.root}/tables/rename`, { source: from, destination: to });
    if (res.status === 200 || res.status === 204) return;
    if (res.status === 409) throw new AlreadyExistsError(`table '${identifierToString(to)}' already exists`);
    if (res.status === 404) {
      if (restError(res.body)?.type === 'NoSuchNamespaceException') throw new NotFoundError(`namespace '${namespaceToString(to.namespace)}' does not exist`);
      throw new NotFoundError(`table '${identifierToString(from)}' does not exist`);
    }
    throw this.unexpected('rename table', identifierToString(from), res);
  }

  /** With purge, floe deletes the files itself (the same set as the SQL catalog's purge:
   * what the metadata references plus the files directly in metadata/, never another
   * table's), after the server removed the entry; the server is not asked to purge. */
  async dropTable(id: TableIdentifier, opts: { purge?: boolean } = {}): Promise<DropTableResult> {
    validateIdentifier(id);
    const { doomed, spared, tidy } = opts.purge ? await this.purgeList(id) : { doomed: [], spared: 0, tidy: undefined };
    const res = await this.http.request('DELETE', this.tablePath(id));
    if (res.status === 404) throw this.notFound(id, res);
    if (res.status !== 200 && res.status !== 204) throw this.unexpected('drop table', identifierToString(id), res);
    const failed = await deleteAll(this.io, doomed);
    if (failed.length > 0) {
      throw new FloeError('io', `dropped table '${identifierToString(id)}' but could not delete ${failed.length} of its ${doomed.length} file(s), e.g. ${failed[0]}`);
    }
    // The folders the deleted files leave empty go too (local disks; never another table's).
    await tidy?.();
    return { deletedFiles: doomed.length, sparedFiles: spared };
  }

  /** What a purge deletes (catalog/purge-files.ts): never a file inside another table's location;
   * `tidy` then removes the table's folders left empty. */
  private async purgeList(id: TableIdentifier): Promise<{ doomed: string[]; spared: number; tidy: () => Promise<number> }> {
    const self = identifierToString(id);
    const table = await this.loadTable(id);
    const others = (await this.listTableLocations()).filter((t) => t.identifier !== self);
    return { ...await purgeFiles(this.io, table, others), tidy: () => removeEmptyTableFolders(this.io, table.metadata.location, others) };
  }

  /** Every table of every namespace, loaded (a few at a time). */
  async listTableLocations(): Promise<TableLocation[]> {
    const ids: TableIdentifier[] = [];
    const walk = async (ns: readonly string[]): Promise<void> => {
      for (const child of await this.listNamespaces(ns)) {
        // A namespace only implied by a child's name (a.b created without a) lists but has no tables.
        ids.push(...await this.listTables(child).catch((err: unknown) => { if (err instanceof NotFoundError) return []; throw err; }));
        await walk(child);
      }
    };
    await walk([]);
    const queue = new PQueue({ concurrency: 8 });
    const out: TableLocation[] = [];
    await Promise.all(ids.map((id) => queue.add(async () => {
      try {
        const t = await this.loadTable(id);
        out.push({ identifier: identifierToString(id), location: t.metadata.location, metadataLocation: t.metadataLocation });
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err; // dropped meanwhile
      }
    })));
    return out;
  }

  async commitTable(id: TableIdentifier, requirements: readonly TableRequirement[], updates: readonly TableUpdate[], opts: CommitTableOptions = {}): Promise<LoadedTable> {
    // The server writes the metadata file itself: the caller's files must be written first.
    await opts.filesWritten;
    validateIdentifier(id);
    const label = identifierToString(id);
    for (const u of updates) {
      if (u.action !== 'set-location') continue;
      validateTableLocation(u.location);
      const clash = await this.overlapping(u.location, label);
      if (clash) throw overlapError(id, u.location, clash);
    }
    let res: RestResponse;
    try {
      res = await this.http.request('POST', this.tablePath(id), {
        identifier: { namespace: id.namespace, name: id.name },
        requirements: requirements.map(requirementToJson),
        updates: updates.map(updateToJson),
      });
    } catch (err) {
      if (err instanceof RestTransportError) {
        throw new CommitStateUnknownError(`commit to '${label}' may or may not have landed: ${err.message}`, { cause: err });
      }
      throw err;
    }
    if (res.status === 200) return this.loaded(id, res);
    const e = restError(res.body);
    if (res.status === 409) {
      // Name the requirement that failed the way every floe catalog does, from a fresh load.
      const current = await this.loadTable(id).catch(() => undefined);
      if (current) {
        try {
          checkRequirements(current.metadata, requirements);
        } catch (err) {
          if (err instanceof CommitConflictError) throw new CommitConflictError(`commit to '${label}' failed: ${err.message}`);
          throw err;
        }
      }
      throw new CommitConflictError(`commit to '${label}' failed: ${oneLine(e?.message ?? 'conflict')}`);
    }
    if (res.status === 404) throw this.notFound(id, res);
    if (res.status === 400 || res.status === 422) throw new ValidationError(`commit to '${label}' refused by the REST catalog: ${oneLine(e?.message ?? `HTTP ${res.status}`)}`);
    // 500, 502, 503, 504 and anything else: the spec says the commit state is unknown.
    throw new CommitStateUnknownError(`commit to '${label}' may or may not have landed: REST catalog answered ${res.status}${describe(res)}`);
  }

  async close(): Promise<void> { this.io.close?.(); }

  // --- helpers ---------------------------------------------------------------------------

  private tablePath(id: TableIdentifier): string {
    return `${this.root}/namespaces/${nsPath(id.namespace)}/tables/${encodeURIComponent(id.name)}`;
  }

  private loaded(id: TableIdentifier, res: RestResponse): LoadedTable {
    const body = res.body as { 'metadata-location'?: string; metadata?: unknown };
    const raw = body?.['metadata-location'];
    if (typeof raw !== 'string' || !body.metadata) {
      throw new FloeError('io', `REST catalog ${this.http.baseUri}: table '${identifierToString(id)}' answered without metadata-location/metadata`);
    }
    const metadataLocation = normalizeFileUri(raw);
    let metadata = this.metadataCache.get(metadataLocation);
    if (metadata) this.metadataCache.delete(metadataLocation);
    else metadata = normalizeMetadataUris(parseTableMetadata(stringifyJsonExact(body.metadata), metadataLocation));
    this.metadataCache.set(metadataLocation, metadata);
    if (this.metadataCache.size > 16) this.metadataCache.delete(this.metadataCache.keys().next().value!);
    return { identifier: { namespace: [...id.namespace], name: id.name }, metadata, metadataLocation };
  }

  private notFound(id: TableIdentifier, res: RestResponse): NotFoundError {
    if (restError(res.body)?.type === 'NoSuchNamespaceException') return new NotFoundError(`namespace '${namespaceToString(id.namespace)}' does not exist`);
    return new NotFoundError(`table '${identifierToString(id)}' does not exist`);
  }

  private unexpected(what: string, subject: string, res: RestResponse): FloeError {
    const msg = `cannot ${what} '${subject}': REST catalog ${this.http.baseUri} answered ${res.status}${describe(res)}`;
    return res.status === 400 || res.status === 422 ? new ValidationError(msg) : new FloeError('io', msg, { retryable: res.status >= 500 });
  }

  /** GET a paged list (`page-token` / `next-page-token`); returns the `key` array of each page. */
  private async pages(path: string, query: string, key: string, subject: string): Promise<unknown[][]> {
    const out: unknown[][] = [];
    let token: string | null | undefined;
    for (;;) {
      const q = [query, token ? `pageToken=${encodeURIComponent(token)}` : ''].filter((s) => s !== '').join('&');
      const res = await this.http.request('GET', q ? `${path}?${q}` : path);
      if (res.status === 404) throw new NotFoundError(`namespace '${subject}' does not exist`);
      if (res.status !== 200) throw this.unexpected('list', subject || '(top level)', res);
      const body = res.body as Record<string, unknown>;
      out.push((body[key] as unknown[] | undefined) ?? []);
      token = body['next-page-token'] as string | null | undefined;
      if (!token) return out;
    }
  }
}

function describe(res: RestResponse): string {
  const e = restError(res.body);
  return e ? ` (${e.type}: ${oneLine(e.message)})` : '';
}
