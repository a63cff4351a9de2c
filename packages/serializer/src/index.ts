export { json, type JsonOptions } from './json.js';
export { bytes, type BytesOptions } from './bytes.js';
export { DEFAULT_MAX_BYTES } from './state-text.js';
export { issuePath } from './validate-with-schema.js';
export type { StandardSchemaV1, StandardTypedV1 } from './standard-schema.js';
