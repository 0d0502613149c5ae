import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RolloutMetrics } from '../../app/worker/deps.js';
import type { ChatCalls } from '../slack/web-api-chat.js';

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600];

/** What a baton process exposes on /metrics (Prometheus text format). */
export class BatonMetrics implements RolloutMetrics {
  readonly registry = new Registry();
  private readonly rollouts = new Counter({
    name: 'baton_rollouts_total',
    help: 'Rollouts finished by this process, by kind and result.',
    labelNames: ['kind', 'result'] as const,
    registers: [this.registry],
  });
  private readonly rolloutSeconds = new Histogram({
    name: 'baton_rollout_duration_seconds',
    help: 'How long rollouts took, start to finish.',
    labelNames: ['kind', 'result'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly groupSeconds = new Histogram({
    name: 'baton_group_duration_seconds',
    help: 'How long one group took, from its first step to healthy (or rolled back).',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly healthFailures = new Counter({
    name: 'baton_health_check_failures_total',
    help: 'Hosts that failed their health check (or did not pass it in time).',
    registers: [this.registry],
  });

  /** Queue depth comes from `depth` whenever /metrics is read. */
  watchQueue(depth: () => Promise<Record<string, number>>): void {
    new Gauge({
      name: 'baton_queue_jobs',
      help: 'Rollout jobs in the queue, by state.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        for (const [state, count] of Object.entries(await depth())) this.set({ state }, count);
      },
    });
  }

  /** Web API calls and 429s, read from the Slack client's own counts. */
  watchSlack(calls: ChatCalls): void {
    new Gauge({
      name: 'baton_slack_api_calls',
      help: 'Slack Web API calls (and response URL replies) made by this process, by method.',
      labelNames: ['method'] as const,
      registers: [this.registry],
      collect() {
        for (const [method, count] of Object.entries(calls.byMethod)) this.set({ method }, count);
      },
    });
    new Gauge({
      name: 'baton_slack_rate_limited',
      help: 'Slack calls answered 429 (rate limited) in this process.',
      registers: [this.registry],
      collect() {
        this.set(calls.rateLimited);
      },
    });
  }

  rolloutFinished(kind: string, result: string, durationMs: number): void {
    this.rollouts.inc({ kind, result });
    this.rolloutSeconds.observe({ kind, result }, durationMs / 1000);
  }

  groupFinished(durationMs: number): void {
    this.groupSeconds.observe(durationMs / 1000);
  }

  healthCheckFailed(): void {
    this.healthFailures.inc();
  }
}
