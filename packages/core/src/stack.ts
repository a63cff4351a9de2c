import { PresenceConfigurationError } from './errors/configuration-error.js';
import type { Handler, Middleware, MiddlewareInfo, MiddlewareOptions, Stack, StackContext, Step } from './types.js';

const STEPS: readonly Step[] = ['initialize', 'serialize', 'finalize', 'deserialize'];

interface Entry extends MiddlewareInfo {
  readonly middleware: Middleware;
  readonly order: number;
}

export interface ComposableStack extends Stack {
  /** The whole chain ending at `terminal`; rebuilt only after the stack changed. */
  resolve(terminal: Handler): Handler;
  close(): Promise<void>;
}

/**
 * The middleware stack (DESIGN §2): steps give the order, priorities order entries within a
 * step (higher runs first), registration order breaks ties, and names are unique.
 */
export function createStack(context: StackContext): ComposableStack {
  let entries: Entry[] = [];
  let added = 0;
  let cached: { terminal: Handler; handler: Handler } | undefined;
  const closeHooks: Array<() => Promise<void> | void> = [];

  const sorted = (): Entry[] =>
    [...entries].sort(
      (a, b) => STEPS.indexOf(a.step) - STEPS.indexOf(b.step) || b.priority - a.priority || a.order - b.order,
    );

  return {
    context,
    retryBudget: undefined,
    add(middleware, options: MiddlewareOptions) {
      const { name, step, priority = 0 } = options;
      if (typeof name !== 'string' || name.length === 0) throw new PresenceConfigurationError('name', 'A middleware needs a non-empty name.');
      if (!STEPS.includes(step)) throw new PresenceConfigurationError('step', `Middleware "${name}" has step "${String(step)}"; use one of ${STEPS.join(', ')}.`);
      if (typeof middleware !== 'function') throw new PresenceConfigurationError('middleware', `Middleware "${name}" must be a function (next, context) => handler.`);
      if (!Number.isFinite(priority)) throw new PresenceConfigurationError('priority', `Middleware "${name}" needs a finite priority.`);
      if (entries.some((e) => e.name === name)) {
        throw new PresenceConfigurationError('name', `A middleware named "${name}" is already in the stack; remove it first or pick another name (was a plugin added twice?).`);
      }
      entries.push({ name, step, priority, middleware, order: added++ });
      cached = undefined;
    },
    remove(name) {
      const before = entries.length;
      entries = entries.filter((e) => e.name !== name);
      cached = undefined;
      return entries.length !== before;
    },
    has: (name) => entries.some((e) => e.name === name),
    list: () => sorted().map(({ name, step, priority }) => ({ name, step, priority })),
    onClose(hook) {
      closeHooks.push(hook);
    },
    resolve(terminal) {
      if (cached?.terminal === terminal) return cached.handler;
      let handler = terminal;
      const ordered = sorted();
      for (let i = ordered.length - 1; i >= 0; i--) handler = ordered[i]!.middleware(handler, context);
      cached = { terminal, handler };
      return handler;
    },
    async close() {
      const errors: unknown[] = [];
      for (const hook of closeHooks.splice(0).reverse()) {
        try {
          await hook();
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length) throw new AggregateError(errors, 'Some plugins failed to close.');
    },
  };
}
