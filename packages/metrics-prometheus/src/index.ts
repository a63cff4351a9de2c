export {
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_PREFIX,
  DEFAULT_WATCH_LAG_BUCKETS,
  MAX_BUCKETS,
  prometheusMetrics,
  type PrometheusMetricsOptions,
  type PrometheusMetricsPlugin,
} from './prometheus-metrics.js';
export {
  CACHE_ERROR_KINDS,
  CACHE_RESULTS,
  MAX_STORES,
  metricNames,
  OPERATIONS,
  OUTCOMES,
  RETRY_REASONS,
  STATUS_CLASSES,
  WATCH_EVENT_TYPES,
  WATCH_RECONNECT_REASONS,
} from './metrics.js';
