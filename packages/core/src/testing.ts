// Test helpers for this package's users and for the other @presence packages.
export {
  createMemoryTransport,
  type MemoryTransport,
  type MemoryTransportOptions,
  type RecordedRequest,
  type Responder,
  type ScriptedResponse,
} from './memory-transport.js';
export { serializerConformanceCases, type SerializerConformanceCase, type SerializerConformanceOptions } from './conformance/serializer-conformance.js';
export { cacheStoreConformanceCases, type CacheStoreConformanceCase, type CacheStoreConformanceOptions } from './conformance/cache-store-conformance.js';
export { startLagProbe, type LagProbe } from './lag-probe.js';
