// An HTTP proxy between an S3 client and the test S3 server that injects the faults a real S3
// endpoint produces: 503 SlowDown, 500 InternalError, a connection reset in the middle of a
// request body, slow answers. Faults are armed at run time for the next n matching requests;
// counters show what the client sent and what was injected, so a test can prove a retry happened.
//
// Everything else is forwarded unchanged and streamed both ways. The Host header in particular
// is kept: the client signed `127.0.0.1:<proxy port>` and the server checks the signature
// against the Host it receives.
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a fault predicate sees of a request. */
export interface ProxiedRequest {
  readonly method: string;
  /** Path without the query, e.g. `/bucket/key`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

export type RequestPredicate = (req: ProxiedRequest) => boolean;

export const anyRequest: RequestPredicate = () => true;
/** UploadPart: PUT with `partNumber=` and `uploadId=` in the query (UploadPartCopy too). */
export const isUploadPart: RequestPredicate = (r) => r.method === 'PUT' && r.query.has('partNumber') && r.query.has('uploadId');
/** PutObject: a PUT of an object (not a part, not a bucket, not a copy). */
export const isPutObject: RequestPredicate = (r) =>
  r.method === 'PUT' && !r.query.has('uploadId') && !r.query.has('partNumber') && r.path.split('/').filter(Boolean).length >= 2 && r.headers['x-amz-copy-source'] === undefined;
/** CompleteMultipartUpload: POST with `uploadId=`. */
export const isCompleteMultipartUpload: RequestPredicate = (r) => r.method === 'POST' && r.query.has('uploadId');
/** GetObject (ranged or not): a GET of an object key. */
export const isGetObject: RequestPredicate = (r) => r.method === 'GET' && r.path.split('/').filter(Boolean).length >= 2;

export type FaultKind = 'slowDown' | 'internalError' | 'resetMidBody' | 'delay';

export interface ResetOptions {
  /** Cut after this many body bytes were forwarded (default: half the Content-Length, at least 1). */
  readonly afterBytes?: number;
}

export interface DelayOptions {
  /** How many matching requests to slow down (default: every one until clearFaults()). */
  readonly count?: number;
  /**
   * 'response' (default): the server handles the request at once and the proxy holds back its
   * answer (a timeout then leaves the write done but unseen by the client); 'request': the
   * proxy waits before forwarding the request at all.
   */
  readonly phase?: 'request' | 'response';
}

interface ArmedFault {
  readonly kind: FaultKind;
  remaining: number;
  readonly predicate: RequestPredicate;
  readonly delayMs?: number;
  readonly phase?: 'request' | 'response';
  readonly afterBytes?: number;
}

export interface ProxyCounters {
  /** Requests the proxy received. */
  requests: number;
  /** Requests forwarded to the server (delayed ones included, cut ones not). */
  forwarded: number;
  /** Faults injected, by kind. */
  faults: Record<FaultKind, number>;
}

/** One line per request: what it was and which fault, if any, it met. */
export interface ProxyLogEntry {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly fault?: FaultKind;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect']);

export class S3FaultProxy {
  readonly counters: ProxyCounters = { requests: 0, forwarded: 0, faults: { slowDown: 0, internalError: 0, resetMidBody: 0, delay: 0 } };
  readonly log: ProxyLogEntry[] = [];
  private faults: ArmedFault[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();
  /** Held requests and answers: close() clears them, so a long hold cannot keep the test process alive. */
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    /** `http://127.0.0.1:<port>`: give this to the client as its endpoint. */
    readonly endpoint: string,
  ) {}

  /** Starts a proxy on 127.0.0.1 (a free port) forwarding to `targetEndpoint` (`http://host:port`). */
  static async start(targetEndpoint: string): Promise<S3FaultProxy> {
    const target = new URL(targetEndpoint);
    if (target.protocol !== 'http:') throw new Error(`S3FaultProxy: only http targets, got ${targetEndpoint}`);
    let proxy: S3FaultProxy | undefined;
    const server = createServer((req, res) => proxy!.handle(req, res));
    server.on('connection', (s) => { proxy?.sockets.add(s); s.on('close', () => proxy?.sockets.delete(s)); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    const { port } = server.address() as AddressInfo;
    proxy = new S3FaultProxy(server, target, `http://127.0.0.1:${port}`);
    return proxy;
  }

  /** The next n matching requests answer 503 SlowDown (S3's throttling error). */
  slowDown(n: number, predicate: RequestPredicate = anyRequest): this {
    return this.arm({ kind: 'slowDown', remaining: n, predicate });
  }

  /** The next n matching requests answer 500 InternalError. */
  internalError(n: number, predicate: RequestPredicate = anyRequest): this {
    return this.arm({ kind: 'internalError', remaining: n, predicate });
  }

  /**
   * The next n matching requests are cut: part of the body is forwarded, then the client's and
   * the server's connections are destroyed (the client sees ECONNRESET / socket hang up).
   */
  resetMidBody(n: number, predicate: RequestPredicate = anyRequest, options: ResetOptions = {}): this {
    return this.arm({ kind: 'resetMidBody', remaining: n, predicate, ...(options.afterBytes === undefined ? {} : { afterBytes: options.afterBytes }) });
  }

  /** Matching requests are answered `ms` late (see DelayOptions.phase). */
  delay(ms: number, predicate: RequestPredicate = anyRequest, options: DelayOptions = {}): this {
    return this.arm({ kind: 'delay', remaining: options.count ?? Number.POSITIVE_INFINITY, predicate, delayMs: ms, phase: options.phase ?? 'response' });
  }

  /** Disarms every fault not yet used (counters and log stay). */
  clearFaults(): this {
    this.faults = [];
    return this;
  }

  /** Faults armed but not yet injected. */
  get pendingFaults(): number {
    return this.faults.reduce((n, f) => n + (Number.isFinite(f.remaining) ? f.remaining : 1), 0);
  }

  /** Requests logged so far that match the predicate. */
  seen(predicate: RequestPredicate): number {
    return this.log.filter((e) => predicate({ method: e.method, path: e.path, query: new URLSearchParams(e.query), headers: {} })).length;
  }

  async close(): Promise<void> {
    this.faults = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); fn(); }, ms);
    this.timers.add(t);
  }

  private arm(f: ArmedFault): this {
    if (!(f.remaining > 0)) throw new Error(`S3FaultProxy.${f.kind}: count must be > 0, got ${f.remaining}`);
    this.faults.push(f);
    return this;
  }

  private take(info: ProxiedRequest): ArmedFault | undefined {
    const f = this.faults.find((x) => x.remaining > 0 && x.predicate(info));
    if (!f) return undefined;
    f.remaining--;
    this.faults = this.faults.filter((x) => x.remaining > 0);
    this.counters.faults[f.kind]++;
    return f;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.counters.requests++;
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const info: ProxiedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers };
    const fault = this.take(info);
    this.log.push({ method: info.method, path: info.path, query: url.search.replace(/^\?/, ''), ...(fault ? { fault: fault.kind } : {}) });
    switch (fault?.kind) {
      case 'slowDown':
        this.answerError(req, res, 503, 'SlowDown', 'Please reduce your request rate.', info.path);
        return;
      case 'internalError':
        this.answerError(req, res, 500, 'InternalError', 'We encountered an internal error. Please try again.', info.path);
        return;
      case 'resetMidBody':
        this.forward(req, res, { resetAfter: fault.afterBytes ?? resetPoint(req.headers) });
        return;
      case 'delay':
        if (fault.phase === 'request') {
          this.later(fault.delayMs ?? 0, () => this.forward(req, res, {}));
          return;
        }
        this.forward(req, res, { holdResponseMs: fault.delayMs ?? 0 });
        return;
      default:
        this.forward(req, res, {});
    }
  }

  /** Reads the whole request body (a client mid-upload must get the answer, not a broken pipe), then answers an S3 XML error. */
  private answerError(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string, resource: string): void {
    req.resume();
    req.on('end', () => {
      const requestId = randomBytes(8).toString('hex').toUpperCase();
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>floe-s3-fault-proxy</HostId></Error>`;
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': requestId });
      res.end(body);
    });
  }

  private forward(req: IncomingMessage, res: ServerResponse, opts: { resetAfter?: number; holdResponseMs?: number }): void {
    if (res.destroyed) return; // the client gave up while the request was held
    const headers: OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    }
    // headers.host stays what the client sent (and signed).
    const upstream = httpRequest({
      host: this.target.hostname,
      port: this.target.port,
      method: req.method,
      path: req.url,
      headers,
    });
    const cut = (): void => {
      upstream.destroy();
      req.socket.destroy();
    };
    upstream.on('error', (err) => {
      if (opts.resetAfter !== undefined) return; // we cut it ourselves
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`S3FaultProxy: upstream error: ${err.message}`);
      } else {
        res.destroy(err);
      }
    });
    upstream.on('response', (up) => {
      const send = (): void => {
        if (res.destroyed) { up.destroy(); return; }
        res.writeHead(up.statusCode ?? 502, up.statusMessage, filterHeaders(up.headers));
        up.pipe(res);
      };
      if (opts.holdResponseMs) {
        up.pause();
        this.later(opts.holdResponseMs, send);
      } else {
        send();
      }
    });
    res.on('close', () => { if (!res.writableFinished) upstream.destroy(); });

    if (opts.resetAfter === undefined) {
      this.counters.forwarded++;
      req.pipe(upstream);
      return;
    }
    const limit = opts.resetAfter;
    let sent = 0;
    if (limit <= 0) { cut(); return; }
    req.on('data', (chunk: Buffer) => {
      if (sent >= limit) return;
      const part = chunk.subarray(0, limit - sent);
      sent += part.length;
      upstream.write(part);
      if (sent >= limit) cut();
    });
    req.on('end', () => { if (sent < limit) cut(); });
  }
}

function resetPoint(headers: IncomingHttpHeaders): number {
  const len = Number(headers['content-length'] ?? NaN);
  return Number.isFinite(len) && len > 0 ? Math.max(1, Math.floor(len / 2)) : 1;
}

function filterHeaders(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && k !== 'connection' && k !== 'keep-alive') out[k] = v;
  return out;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' } as Record<string, string>)[c]};`);
}
