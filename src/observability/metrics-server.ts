// Serves a prom-client registry at /metrics for Prometheus to scrape (ingest and compaction).
import { createServer } from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsServer { readonly port: number; close(): Promise<void> }

/** Listens on the port (0 = any free port). */
export async function serveMetrics(registry: Registry, port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end('see /metrics\n'); return; }
    registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': registry.contentType }).end(text);
    }, (err: unknown) => { res.writeHead(500).end(String(err)); });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
