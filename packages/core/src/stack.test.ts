import { describe, expect, test } from 'vitest';
import { createEvents, createSafeLogger, createStack, PresenceConfigurationError, type Call, type Middleware, type StackContext } from './index.js';

const context = { config: {}, events: createEvents(), logger: createSafeLogger(undefined) } as unknown as StackContext;
const call = {} as Call;

function tracer(trail: string[], name: string): Middleware {
  return (next) => async (c) => {
    trail.push(name);
    return next(c);
  };
}

describe('the middleware stack', () => {
  test('steps run in order, priorities within a step (higher first), ties in registration order', async () => {
    const stack = createStack(context);
    const trail: string[] = [];
    stack.add(tracer(trail, 'deserialize'), { name: 'deserialize', step: 'deserialize' });
    stack.add(tracer(trail, 'finalize-low'), { name: 'finalize-low', step: 'finalize', priority: -10 });
    stack.add(tracer(trail, 'initialize'), { name: 'initialize', step: 'initialize' });
    stack.add(tracer(trail, 'finalize-high'), { name: 'finalize-high', step: 'finalize', priority: 10 });
    stack.add(tracer(trail, 'serialize'), { name: 'serialize', step: 'serialize' });
    stack.add(tracer(trail, 'finalize-a'), { name: 'finalize-a', step: 'finalize' });
    stack.add(tracer(trail, 'finalize-b'), { name: 'finalize-b', step: 'finalize' });
    const handler = stack.resolve(async () => ({ output: 'done' }));
    await expect(handler(call)).resolves.toEqual({ output: 'done' });
    const expected = ['initialize', 'serialize', 'finalize-high', 'finalize-a', 'finalize-b', 'finalize-low', 'deserialize'];
    expect(trail).toEqual(expected);
    expect(stack.list().map((m) => m.name)).toEqual(expected);
    expect(stack.list()[2]).toEqual({ name: 'finalize-high', step: 'finalize', priority: 10 });
  });

  test('a duplicate name throws a configuration error and leaves the stack as it was', () => {
    const stack = createStack(context);
    stack.add((next) => next, { name: 'retry', step: 'finalize' });
    expect(() => stack.add((next) => next, { name: 'retry', step: 'initialize' })).toThrow(PresenceConfigurationError);
    expect(() => stack.add((next) => next, { name: 'retry', step: 'initialize' })).toThrow(/already in the stack/);
    expect(stack.list()).toEqual([{ name: 'retry', step: 'finalize', priority: 0 }]);
  });

  test('bad entries are refused', () => {
    const stack = createStack(context);
    expect(() => stack.add((next) => next, { name: '', step: 'finalize' })).toThrow(/non-empty name/);
    expect(() => stack.add((next) => next, { name: 'x', step: 'build' as never })).toThrow(/initialize, serialize, finalize, deserialize/);
    expect(() => stack.add('nope' as never, { name: 'x', step: 'finalize' })).toThrow(/must be a function/);
    expect(() => stack.add((next) => next, { name: 'x', step: 'finalize', priority: Number.NaN })).toThrow(/finite priority/);
  });

  test('removal takes an entry out of the chain, and the chain is rebuilt', async () => {
    const stack = createStack(context);
    const trail: string[] = [];
    stack.add(tracer(trail, 'a'), { name: 'a', step: 'initialize' });
    stack.add(tracer(trail, 'b'), { name: 'b', step: 'initialize' });
    const terminal = async () => ({});
    await stack.resolve(terminal)(call);
    expect(stack.remove('a')).toBe(true);
    expect(stack.remove('a')).toBe(false);
    expect(stack.has('a')).toBe(false);
    expect(stack.has('b')).toBe(true);
    await stack.resolve(terminal)(call);
    expect(trail).toEqual(['a', 'b', 'b']);
  });

  test('the chain is built once and reused until the stack changes', () => {
    const stack = createStack(context);
    let built = 0;
    stack.add((next) => (built++, next), { name: 'a', step: 'initialize' });
    const terminal = async () => ({});
    const first = stack.resolve(terminal);
    expect(stack.resolve(terminal)).toBe(first);
    expect(built).toBe(1);
    stack.add((next) => next, { name: 'b', step: 'initialize' });
    stack.resolve(terminal);
    expect(built).toBe(2);
  });

  test('middleware receives the context; close hooks run in reverse and all run even if one fails', async () => {
    const stack = createStack(context);
    let seen: StackContext | undefined;
    stack.add((next, ctx) => ((seen = ctx), next), { name: 'a', step: 'initialize' });
    stack.resolve(async () => ({}));
    expect(seen).toBe(context);
    const order: number[] = [];
    stack.onClose(() => void order.push(1));
    stack.onClose(() => {
      order.push(2);
      throw new Error('boom');
    });
    stack.onClose(() => void order.push(3));
    await expect(stack.close()).rejects.toThrow(AggregateError);
    expect(order).toEqual([3, 2, 1]);
  });
});
