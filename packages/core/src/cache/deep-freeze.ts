/**
 * Freezes a result shared between callers through a cache, so one caller cannot change what
 * another reads. Byte arrays (the `bytes()` serializer's states) cannot be frozen and are left as they are.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}
