// HTTP for the REST catalog on Node's fetch: JSON in and out (bigints exact), a timeout on
// every request, and the Authorization header — a fixed bearer token, or an OAuth2
// client-credentials token fetched from the token endpoint and refreshed before it expires.
// Errors are one line naming the catalog URI; secrets never appear in them.
import { FloeError, ValidationError, errorMessage } from '../../src/errors.ts';
import { parseJsonExact, stringifyJsonExact } from '../../src/spec/json.ts';

export interface RestAuth {
  /** A bearer token sent as is (`token` in Iceberg's catalog properties). */
  readonly token?: string;
  /** `client_id:client_secret` for the OAuth2 client-credentials flow (`credential`). */
  readonly credential?: string;
  /** Token endpoint; default `<uri>/v1/oauth/tokens` (`oauth2-server-uri`). */
  readonly oauth2ServerUri?: string;
  /** Default `catalog` (`scope`). */
  readonly scope?: string;
}

export interface RestResponse {
  readonly status: number;
  readonly body: unknown;
}

/** The server's error model: `{ error: { message, type, code } }`. */
export interface RestErrorBody { readonly message: string; readonly type: string; readonly code: number }

export function restError(body: unknown): RestErrorBody | undefined {
  const e = (body as { error?: Partial<RestErrorBody> } | null)?.error;
  if (!e || typeof e !== 'object') return undefined;
  return { message: String(e.message ?? ''), type: String(e.type ?? ''), code: Number(e.code ?? 0) };
}

/** No answer (connection refused, reset, timeout): the request may or may not have been applied. */
export class RestTransportError extends FloeError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super('io', message, { retryable: true, ...opts });
    this.name = 'RestTransportError';
  }
}

/** Refresh this long before `expires_in` runs out. */
const REFRESH_MARGIN_MS = 60_000;

export class RestHttp {
  readonly baseUri: string;
  private readonly auth: RestAuth;
  private readonly timeoutMs: number;
  private cached: { token: string; expiresAtMs: number } | undefined;
  private fetching: Promise<string> | undefined;

  constructor(baseUri: string, auth: RestAuth = {}, timeoutMs = 30_000) {
    this.baseUri = baseUri.replace(/\/+$/, '');
    this.auth = auth;
    this.timeoutMs = timeoutMs;
    if (auth.credential !== undefined && !auth.credential.includes(':')) {
      throw new ValidationError(`REST catalog ${this.baseUri}: credential must be 'client_id:client_secret'`);
    }
  }

  /** `path` starts with `/v1/…`. Returns status and parsed JSON body (undefined when empty). */
  async request(method: string, path: string, body?: unknown): Promise<RestResponse> {
    const headers: Record<string, string> = { Accept: 'application/json', 'X-Client-Version': 'floe' };
    const token = await this.bearer();
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const url = `${this.baseUri}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method, headers, ...(body === undefined ? {} : { body: stringifyJsonExact(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new RestTransportError(`REST catalog ${this.baseUri}: ${method} ${path} got no answer: ${transportCause(err, this.timeoutMs)}`, { cause: err });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new RestTransportError(`REST catalog ${this.baseUri}: ${method} ${path}: answer cut off: ${transportCause(err, this.timeoutMs)}`, { cause: err });
    }
    let parsed: unknown;
    if (text.trim() !== '') {
      try { parsed = parseJsonExact(text); } catch {
        if (res.ok) throw new FloeError('io', `REST catalog ${this.baseUri}: ${method} ${path} answered ${res.status} with a body that is not JSON`);
        parsed = undefined;
      }
    }
    if (res.status === 401 || res.status === 403) {
      const e = restError(parsed);
      throw new ValidationError(`REST catalog ${this.baseUri}: ${res.status} ${res.status === 401 ? 'unauthorized' : 'forbidden'}` +
        ` (${this.authSummary()})${e?.message ? `: ${oneLine(e.message)}` : ''}`);
    }
    return { status: res.status, body: parsed };
  }

  private authSummary(): string {
    if (this.auth.token !== undefined) return 'check the bearer token: FLOE_REST_TOKEN';
    if (this.auth.credential !== undefined) return 'check the client credentials: FLOE_REST_CREDENTIAL';
    return 'no credentials given: set FLOE_REST_TOKEN or FLOE_REST_CREDENTIAL';
  }

  private async bearer(): Promise<string | undefined> {
    if (this.auth.token !== undefined) return this.auth.token;
    if (this.auth.credential === undefined) return undefined;
    if (this.cached && Date.now() < this.cached.expiresAtMs - REFRESH_MARGIN_MS) return this.cached.token;
    this.fetching ??= this.fetchToken().finally(() => { this.fetching = undefined; });
    return this.fetching;
  }

  /** OAuth2 client credentials (RFC 6749 §4.4), form-encoded as Iceberg's clients send it. */
  private async fetchToken(): Promise<string> {
    const credential = this.auth.credential!;
    const colon = credential.indexOf(':');
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credential.slice(0, colon),
      client_secret: credential.slice(colon + 1),
      scope: this.auth.scope ?? 'catalog',
    });
    const endpoint = this.auth.oauth2ServerUri ?? `${this.baseUri}/v1/oauth/tokens`;
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST', body: form,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new RestTransportError(`REST catalog ${this.baseUri}: token endpoint ${endpoint} got no answer: ${transportCause(err, this.timeoutMs)}`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    let body: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } = {};
    try { body = JSON.parse(text) as typeof body; } catch { /* reported below */ }
    if (!res.ok || typeof body.access_token !== 'string') {
      const why = typeof body.error === 'string' ? `${body.error}${typeof body.error_description === 'string' ? `: ${oneLine(body.error_description)}` : ''}` : `HTTP ${res.status}`;
      throw new ValidationError(`REST catalog ${this.baseUri}: token endpoint ${endpoint} refused the client credentials (FLOE_REST_CREDENTIAL): ${why}`);
    }
    const expiresInS = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    this.cached = { token: body.access_token, expiresAtMs: Date.now() + expiresInS * 1000 };
    return body.access_token;
  }
}

function transportCause(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const cause = e?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${oneLine(cause.message)})` : ''}`;
  if (cause?.message) return oneLine(cause.message);
  return oneLine(errorMessage(err));
}

export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 500);
}
