// Worker-side observability: the SDK runtime (Prometheus endpoint, logger), JSON log lines, the
// activity metrics interceptor and the optional OpenTelemetry tracing.
import { Context } from '@temporalio/activity';
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { DefaultLogger, type Logger, LogTimestamp, Runtime, type ActivityInterceptorsFactory, type InjectedSinks } from '@temporalio/worker';

export type LogFormat = 'text' | 'json';

export interface TelemetryOptions {
  /** host:port for the Prometheus endpoint (`/metrics`); off when absent. */
  metrics?: string;
  logFormat?: LogFormat;
}

/** Phases last from milliseconds (local) to an hour (a slow cloud fleet). */
const PHASE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const SPEND_BUCKETS = [0.001, 0.01, 0.1, 1, 5, 10, 50, 100, 500, 1000];
const CALL_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900];

const LEVELS: Record<string, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) return { name: v.name, message: v.message };
  return v;
}

/**
 * One JSON object per line: ts, level, msg, burstId when the line comes from a burst workflow or
 * one of its activities (the SDK puts the workflow id and type in every such line's metadata),
 * then the rest of the metadata. Written with one write() each so lines from concurrent
 * activities never interleave.
 */
export class JsonLogger implements Logger {
  private readonly min: number;
  constructor(
    level: LogLevel = 'INFO',
    private readonly out: (line: string) => void = (l) => process.stdout.write(l),
  ) {
    this.min = LEVELS[level] ?? 2;
  }

  log(level: LogLevel, message: string, meta: LogMetadata = {}): void {
    if ((LEVELS[level] ?? 2) < this.min) return;
    const m = meta as Record<string | symbol, unknown>;
    const nanos = m[LogTimestamp];
    const ts = typeof nanos === 'bigint' ? new Date(Number(nanos / 1_000_000n)) : new Date();
    const rec: Record<string, unknown> = { ts: ts.toISOString(), level: level.toLowerCase(), msg: message };
    const burstId = burstIdOf(m);
    if (burstId) rec.burstId = burstId;
    for (const [k, v] of Object.entries(m)) if (!(k in rec)) rec[k] = plain(v);
    this.out(`${JSON.stringify(rec)}\n`);
  }
  trace(message: string, meta?: LogMetadata) { this.log('TRACE', message, meta); }
  debug(message: string, meta?: LogMetadata) { this.log('DEBUG', message, meta); }
  info(message: string, meta?: LogMetadata) { this.log('INFO', message, meta); }
  warn(message: string, meta?: LogMetadata) { this.log('WARN', message, meta); }
  error(message: string, meta?: LogMetadata) { this.log('ERROR', message, meta); }
}

/** A burst's id is its workflow id; other workflows (watch, sweep) are not bursts. */
function burstIdOf(m: Record<string | symbol, unknown>): string | undefined {
  if (typeof m.burstId === 'string') return m.burstId;
  if (m.workflowType === 'burstWorkflow' && typeof m.workflowId === 'string') return m.workflowId;
  return undefined;
}

let installed: { logger: Logger; format: LogFormat } | undefined;

/**
 * The SDK runtime is process-wide and fixed once any connection exists, so this must run before
 * the worker connects, and only once.
 */
export function installRuntime(o: TelemetryOptions): Logger {
  if (installed) return installed.logger;
  const format = o.logFormat ?? 'text';
  const logger: Logger = format === 'json' ? new JsonLogger() : new DefaultLogger('INFO');
  Runtime.install({
    logger,
    ...(o.metrics
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: o.metrics,
                // Seconds, the Prometheus convention, for the SDK's latencies as for ours.
                useSecondsForDurations: true,
                histogramBucketOverrides: {
                  fluxburst_burst_phase_seconds: PHASE_BUCKETS,
                  fluxburst_estimated_spend_usd: SPEND_BUCKETS,
                  fluxburst_plugin_call_seconds: CALL_BUCKETS,
                },
              },
            },
          },
        }
      : {}),
  });
  installed = { logger, format };
  return logger;
}

/** The worker's own lines (polling, stopped): plain text, or JSON like everything else. */
export function say(msg: string, meta: Record<string, unknown> = {}): void {
  if (installed?.format === 'json') installed.logger.info(msg, meta);
  else process.stdout.write(`${msg}\n`);
}

/**
 * Plugin-call metrics, from the activity's own metric meter (so they leave through the same
 * endpoint as the SDK's): how long each plugin call takes and how many nodes were made.
 */
export const activityMetrics: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    async execute(input, next) {
      const call = input.args[0] as { plugin?: unknown } | undefined;
      const plugin = typeof call?.plugin === 'string' ? call.plugin : undefined;
      if (!plugin) return next(input);
      const started = performance.now();
      const tags = { plugin, call: ctx.info.activityType };
      try {
        const out = await next(input);
        ctx.metricMeter.createHistogram('fluxburst_plugin_call_seconds', 'float', 's', 'plugin call latency').record((performance.now() - started) / 1000, { ...tags, result: 'ok' });
        if (ctx.info.activityType === 'provisionStep') {
          const ref = out as { node?: string; nodes?: string[] } | undefined;
          const n = ref?.node ? 1 : (ref?.nodes?.length ?? 0);
          if (n > 0) ctx.metricMeter.createCounter('fluxburst_nodes_provisioned_total', 'nodes', 'nodes provisioned (replacements included)').add(n, { plugin });
        }
        return out;
      } catch (e) {
        ctx.metricMeter.createHistogram('fluxburst_plugin_call_seconds', 'float', 's', 'plugin call latency').record((performance.now() - started) / 1000, { ...tags, result: 'error' });
        throw e;
      }
    },
  },
});

export interface Tracing {
  activity: ActivityInterceptorsFactory;
  sinks: InjectedSinks<Record<string, never>>;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry: spans for each workflow run and activity (the interceptors of
 * @temporalio/interceptors-opentelemetry), sent over OTLP/HTTP to `endpoint` (the
 * OTEL_EXPORTER_OTLP_ENDPOINT convention: the base URL, `/v1/traces` is appended).
 * Loaded only when asked for, so a worker without tracing never pays for the SDK.
 */
export async function startTracing(endpoint: string, serviceName = 'fluxburst-worker'): Promise<Tracing> {
  const [{ NodeTracerProvider }, { BatchSpanProcessor }, { OTLPTraceExporter }, { Resource }, otel] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  const resource = new Resource({ 'service.name': serviceName });
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` });
  const batch = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 500 });
  // Every span of a burst carries its id, so a trace backend finds a burst by it.
  const tagged: import('@opentelemetry/sdk-trace-base').SpanProcessor = {
    onStart(span, parent) {
      try {
        const info = Context.current().info;
        if (info.workflowType === 'burstWorkflow' && info.workflowExecution) span.setAttribute('fluxburst.burst_id', info.workflowExecution.workflowId);
      } catch {
        /* not inside an activity */
      }
      batch.onStart(span, parent);
    },
    onEnd(span) {
      const a = span.attributes as Record<string, unknown>;
      if (a.workflowType === 'burstWorkflow' && typeof a.workflowId === 'string') a['fluxburst.burst_id'] = a.workflowId;
      batch.onEnd(span);
    },
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown(),
  };
  const provider = new NodeTracerProvider({ resource, spanProcessors: [tagged] });
  provider.register();
  const tracer = provider.getTracer('fluxburst');
  return {
    activity: (ctx) => ({
      inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
      outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
    }),
    sinks: { exporter: otel.makeWorkflowExporter(tagged, resource) } as unknown as InjectedSinks<Record<string, never>>,
    shutdown: () => provider.shutdown(),
  };
}
