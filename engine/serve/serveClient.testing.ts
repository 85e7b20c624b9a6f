/** A plain node:http client for the inference server's tests and benchmark: any header (Host too), the raw reply. */
import http from 'node:http';

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** sees each piece of the body as it arrives; return true to hang up there (a client that goes away) */
  onData?: (piece: string) => boolean;
}

export function request(port: number, r: RawRequest): Promise<RawReply> {
  const payload = r.body === undefined ? undefined : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method: r.method ?? (payload === undefined ? 'GET' : 'POST'), path: r.path, agent: false,
      headers: { ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : {}), ...r.headers },
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => {
        body += piece;
        if (r.onData?.(piece)) {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** The `data:` payloads of a server-sent event stream, in order. */
export function sseData(body: string): string[] {
  return body.split('\n\n').filter((e) => e.trim()).map((e) => {
    if (!e.startsWith('data: ')) throw new Error(`not a server-sent data event: ${JSON.stringify(e)}`);
    return e.slice('data: '.length);
  });
}
