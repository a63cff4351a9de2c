import type { CallOptions } from './types.js';

/** The seed-style fluent builder over an operation's input: one setter per field, then `execute()`. */
export type Builder<I, O> = {
  readonly [K in keyof I & string]-?: (value: Exclude<I[K], undefined>) => Builder<I, O>;
} & {
  execute(options?: CallOptions): Promise<O>;
};

type Run = (input: Record<string, unknown>, options?: CallOptions) => Promise<unknown>;

const prototypes = new WeakMap<readonly string[], object>();

/**
 * Builds a builder for any operation from its `fields` list, written once for all operations.
 * Setters record into a fresh object, so a builder can be reused to make variants.
 */
export function createBuilder<I, O>(fields: readonly string[], run: Run): Builder<I, O> {
  let proto = prototypes.get(fields);
  if (!proto) {
    const methods: Record<string, unknown> = {
      execute(this: { input: Record<string, unknown>; run: Run }, options?: CallOptions) {
        return this.run(this.input, options);
      },
    };
    for (const field of fields) {
      methods[field] = function (this: { input: Record<string, unknown>; run: Run }, value: unknown) {
        const next = Object.create(Object.getPrototypeOf(this));
        next.input = { ...this.input, [field]: value };
        next.run = this.run;
        return next;
      };
    }
    proto = Object.freeze(methods);
    prototypes.set(fields, proto);
  }
  const builder = Object.create(proto);
  builder.input = {};
  builder.run = run;
  return builder as Builder<I, O>;
}
