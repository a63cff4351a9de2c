import { describe, expect, test } from 'vitest';
import { createSafeLogger, type LogFields, type Logger } from './index.js';

function recording() {
  const lines: Array<{ level: string; fields: object; message?: string }> = [];
  const at = (level: string) => (fields: object, message?: string) => void lines.push({ level, fields, message });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('the safe logger', () => {
  test('passes only allow-listed fields, and only strings and numbers', () => {
    const { logger, lines } = recording();
    const safe = createSafeLogger(logger);
    const fields = {
      operation: 'hereNow',
      attempt: 2,
      // Not on the allow-list: never passed on, whatever a caller hands in.
      authKey: 'auth-SENTINEL',
      url: 'https://ps.pndsn.com/v2/presence?auth=auth-SENTINEL',
      request: { query: [['auth', 'auth-SENTINEL']] },
      // On the allow-list but not a primitive: could smuggle anything.
      message: { secret: 'auth-SENTINEL' },
      reason: ['auth-SENTINEL'],
    } as unknown as LogFields;
    for (const level of ['debug', 'info', 'warn', 'error'] as const) safe[level](fields, 'something happened');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line.fields).toEqual({ operation: 'hereNow', attempt: 2 });
      expect(line.message).toBe('something happened');
    }
    expect(JSON.stringify(lines)).not.toContain('SENTINEL');
    expect(lines.map((l) => l.level)).toEqual(['debug', 'info', 'warn', 'error']);
  });

  test('every allow-listed field passes', () => {
    const { logger, lines } = recording();
    const all: Required<LogFields> = { operation: 'o', outcome: 'success', durationMs: 1, attempt: 1, status: 200, code: 'c', errno: 'E', reason: 'r', delayMs: 2, result: 'hit_l1', store: 'memory', message: 'm' };
    createSafeLogger(logger).info(all, 'all');
    expect(lines[0]!.fields).toEqual(all);
  });

  test('without a logger nothing is built and enabled is false', () => {
    expect(createSafeLogger(undefined).enabled).toBe(false);
  });
});
