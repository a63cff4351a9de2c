/** Helpers for tests that talk to an emulator over loopback HTTP. */
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
  reusedSocket: boolean;
}

export interface CallInit {
  method?: string;
  body?: string;
  /** Client-side deadline; generous by default for a loaded machine. */
  timeoutMs?: number;
  /** `false` (default) gives the request its own socket, so long-polls never queue behind each other. */
  agent?: Agent | false;
}

export function call(port: number, path: string, init: CallInit = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: init.method ?? 'GET', agent: init.agent ?? false, timeout: init.timeoutMs ?? 15_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, reusedSocket: req.reusedSocket });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`client timeout on ${path}`)));
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Poll a condition every 10 ms (never a fixed sleep); the deadline is generous for a loaded machine. */
export async function until(what: string | (() => string), condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
