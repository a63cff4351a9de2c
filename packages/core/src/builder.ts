import type { CallOptions } from './types.js';

/**
 * The seed-style fluent builder over an operation's input: one setter per field, then `execute()`.
 * It is also awaitable: `await presence.whereNow()` runs the call with the defaults, exactly as
 * `await presence.whereNow().execute()` does, so the zero-argument form never resolves to a builder.
 * Every `await` (or `then`) runs a new call.
 */
export type Builder<I, O> = {
  readonly [K in keyof I & string]-?: Setter<Exclude<I[K], undefined>, Builder<I, O>>;
} & {
  execute(options?: CallOptions): Promise<O>;
  then<R1 = O, R2 = never>(
    onFulfilled?: ((value: O) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2>;
  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<O | R>;
  finally(onFinally?: (() => void) | null): Promise<O>;
};

/**
 * A setter declared as a method, so it is checked bivariantly, as methods are: a client for a
 * specific state type (`PresenceClient<Mood>`) stays assignable to `PresenceClient<unknown>`,
 * the way `Mood[]` is assignable to `unknown[]`.
 */
type Setter<V, B> = { set(value: V): B }['set'];

type Run = (input: Record<string, unknown>, options?: CallOptions) => Promise<unknown>;
interface BuilderState {
  input: Record<string, unknown>;
  run: Run;
}

// Names the builder itself uses; an operation field of the same name would shadow them.
const RESERVED = new Set(['execute', 'then', 'catch', 'finally', 'input', 'run']);
const prototypes = new WeakMap<readonly string[], object>();

function makePrototype(fields: readonly string[]): object {
  const methods: Record<string, unknown> = {
    execute(this: BuilderState, options?: CallOptions) {
      return this.run(this.input, options);
    },
    then(this: BuilderState, onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) {
      return this.run(this.input).then(onFulfilled, onRejected);
    },
    catch(this: BuilderState, onRejected?: (reason: unknown) => unknown) {
      return this.run(this.input).catch(onRejected);
    },
    finally(this: BuilderState, onFinally?: () => void) {
      return this.run(this.input).finally(onFinally);
    },
  };
  for (const field of fields) {
    if (RESERVED.has(field)) throw new TypeError(`createBuilder: an operation field may not be called "${field}"; the builder uses that name.`);
    methods[field] = function (this: BuilderState, value: unknown) {
      const next = Object.create(Object.getPrototypeOf(this) as object) as BuilderState;
      next.input = { ...this.input, [field]: value };
      next.run = this.run;
      return next;
    };
  }
  return Object.freeze(methods);
}

/**
 * Builds a builder for any operation from its `fields` list, written once for all operations.
 * Setters record into a fresh object, so a builder can be reused to make variants.
 */
export function createBuilder<I, O>(fields: readonly string[], run: Run): Builder<I, O> {
  let proto = prototypes.get(fields);
  if (!proto) {
    proto = makePrototype(fields);
    prototypes.set(fields, proto);
  }
  const builder = Object.create(proto) as BuilderState;
  builder.input = {};
  builder.run = run;
  return builder as unknown as Builder<I, O>;
}
