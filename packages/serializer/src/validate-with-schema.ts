import { PresenceSerializationError } from '@presence/core';
import type { StandardSchemaV1 } from './standard-schema.js';

/** Which way a state is travelling: the messages differ in what the user can do about it. */
export type Direction = 'encode' | 'decode';

/** `mood`, `items.2.id`: the issue's path as one dotted string ('' for the state itself). */
export function issuePath(issue: StandardSchemaV1.Issue): string {
  return (issue.path ?? [])
    .map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment))
    .join('.');
}

function describeIssues(issues: readonly StandardSchemaV1.Issue[]): string {
  const [first] = issues;
  if (!first) return 'the schema reported a failure without issues';
  const path = issuePath(first);
  const where = path ? `at "${path}"` : 'at the top level';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : '';
  return `${where}: ${first.message}${more}`;
}

/**
 * Runs a Standard Schema synchronously and returns its output value (schemas may transform).
 * Presence state is encoded inside a synchronous step of the call, so an async schema is refused.
 */
export function validateWithSchema<S>(schema: StandardSchemaV1<unknown, S>, value: unknown, direction: Direction): S {
  const standard = schema['~standard'];
  let result: StandardSchemaV1.Result<S> | Promise<StandardSchemaV1.Result<S>>;
  try {
    result = standard.validate(value);
  } catch (error) {
    throw new PresenceSerializationError(
      `The ${standard.vendor} schema threw while validating ${direction === 'encode' ? 'the state' : 'a state from the response'}: ${error instanceof Error ? error.message : String(error)}. Check the schema.`,
      { cause: error },
    );
  }
  if (result instanceof Promise) {
    // Nobody will await it: keep a rejection from surfacing as an unhandled one.
    result.catch(() => {});
    throw new PresenceSerializationError(
      `The ${standard.vendor} schema validates asynchronously (it returned a Promise); presence state is encoded and decoded synchronously, so use a schema without async refinements or transforms.`,
    );
  }
  if (result.issues) {
    const path = result.issues[0] ? issuePath(result.issues[0]) : '';
    const message =
      direction === 'encode'
        ? `The state does not match the ${standard.vendor} schema ${describeIssues(result.issues)}. Nothing was sent; fix the state (or the schema).`
        : `A state in the response does not match the ${standard.vendor} schema ${describeIssues(result.issues)}. Another client may have stored a different shape: widen the schema, or create the client with invalidState: 'omit' to keep the occupant without its state.`;
    throw new PresenceSerializationError(message, { path });
  }
  return result.value;
}
