import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The shared protocol notes and recorded bodies: `shared/protocol` beside the repository (as laid
 * out for developers and CI), found from the repository upwards; `PRESENCE_PROTOCOL_DIR` overrides it.
 */
function findProtocolDir(): string {
  if (process.env.PRESENCE_PROTOCOL_DIR) return process.env.PRESENCE_PROTOCOL_DIR;
  const tried: string[] = [];
  let dir = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  for (;;) {
    const candidate = join(dir, 'shared', 'protocol');
    tried.push(candidate);
    if (existsSync(join(candidate, 'fixtures'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const workplace = '/work/shared/protocol';
  if (existsSync(join(workplace, 'fixtures'))) return workplace;
  throw new Error(`The protocol fixtures were not found (tried ${[...tried, workplace].join(', ')}); set PRESENCE_PROTOCOL_DIR to the shared/protocol folder.`);
}

export const PROTOCOL_DIR = findProtocolDir();
export const FIXTURES_DIR = join(PROTOCOL_DIR, 'fixtures');

export interface Fixture {
  name: string;
  body: string;
  /** The `.txt` notes: request line, query matcher, status, provenance. */
  notes: string;
  httpStatus: number;
}

export function readFixture(name: string): Fixture {
  const notes = readFileSync(join(FIXTURES_DIR, `${name}.txt`), 'utf8');
  const status = /^RESPONSE: HTTP (\d{3})/m.exec(notes);
  return { name, body: readFileSync(join(FIXTURES_DIR, `${name}.json`), 'utf8'), notes, httpStatus: status ? Number(status[1]) : 200 };
}

/** Every recorded body, by name. */
export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** The official SDK's wire capture: every request line it sent. */
export function capturedRequests(): string[] {
  const text = readFileSync(join(FIXTURES_DIR, 'official_js_sdk_12.0.3_wire_capture.txt'), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.startsWith('GET '))
    .map((line) => line.slice(4).trim());
}

/** A request target without the per-request and per-SDK parameters, for comparing SDKs' requests. */
export function withoutVolatileParams(target: string): string {
  const [path, query = ''] = target.split('?');
  const kept = query
    .split('&')
    .filter((pair) => pair && !/^(requestid|pnsdk|timestamp|signature)=/.test(pair));
  return kept.length ? `${path}?${kept.join('&')}` : path!;
}
