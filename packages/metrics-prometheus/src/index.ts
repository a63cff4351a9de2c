export {
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_PREFIX,
  MAX_BUCKETS,
  prometheusMetrics,
  type PrometheusMetricsOptions,
  type PrometheusMetricsPlugin,
} from './prometheus-metrics.js';
export { CACHE_ERROR_KINDS, CACHE_RESULTS, MAX_STORES, metricNames, OPERATIONS, OUTCOMES, RETRY_REASONS, STATUS_CLASSES } from './metrics.js';
