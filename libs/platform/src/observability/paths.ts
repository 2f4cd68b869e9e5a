/**
 * HTTP paths the observability modules serve on every app. Deployment manifests (k8s probes,
 * compose healthchecks, Prometheus scrape annotations) are checked against these by
 * tools/deploy-validation, so a probe path can never point at a route the app does not serve.
 */
export const OBSERVABILITY_PATHS = {
  live: '/health/live',
  ready: '/health/ready',
  metrics: '/metrics',
  queueDashboard: '/admin/queues',
} as const;
