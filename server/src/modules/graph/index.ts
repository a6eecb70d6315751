import type { FastifyInstance } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../../platform/clock.js';
import type { Actor, Logger } from '../../platform/context.js';
import { generateDemoBundles } from './demo/generate.js';
import type { Database } from '../../platform/db.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditService } from '../audit/index.js';
import { createExportService } from './export.service.js';
import { registerGraphRoutes } from './graph.routes.js';
import { registerIngestRoutes } from './ingest.routes.js';
import { createGraphService, type GraphHooks } from './graph.service.js';
import { createIngestService } from './ingest.service.js';
import { createRecordsService, type SummitEnv } from './records.service.js';
import { registerSchemaRoutes } from './schema.routes.js';
import { createSchemaService } from './schema.service.js';

/** IntelGraph: entities, relationships, sightings, provenance, STIX ingest and export. */
export type { GraphHooks } from './graph.service.js';

export function createGraphModule(deps: {
  db: Database;
  clock: Clock;
  log: Logger;
  audit: AuditService;
  jobs: JobQueue;
  registry: Registry;
  /** prod refuses record ingest against unapproved schemas; dev (the default) lets it through with a warning. */
  env?: SummitEnv;
  /** Told, in the writing transaction, when the graph changed: threat intel rescores what changed. */
  hooks?: GraphHooks;
}) {
  const ingestObjects = new Counter({
    name: 'ingest_objects_total',
    help: 'Ingested objects by outcome (accepted: created or merged; rejected).',
    labelNames: ['outcome'] as const,
    registers: [deps.registry],
  });
  const graph = createGraphService(deps);
  const ingest = createIngestService({ ...deps, metrics: ingestObjects });
  const exporter = createExportService(deps);
  const schemas = createSchemaService(deps);
  const records = createRecordsService({ ...deps, ingest, env: deps.env ?? 'dev' });
  return {
    graph,
    ingest,
    exporter,
    schemas,
    records,
    /**
     * Fills a tenant with the seeded demo graph (one ingest run per simulated source), so a newcomer sees a living
     * graph at once. Deterministic: the same seed gives the same graph.
     */
    async seedDemo(scope: { tenantId: string; actor: Actor; requestId: string | null }, options = { seed: 20_261_128, entities: 3_000 }) {
      const generated = generateDemoBundles(options);
      const runs = [];
      for (const { source, bundle } of generated.bundles) runs.push(await ingest.ingestNow(scope, bundle, source));
      return { stats: generated.stats, runs };
    },
    jobs: [ingest.ingestJob],
    routes: (app: FastifyInstance) => {
      registerGraphRoutes(app, { graph, exporter });
      registerIngestRoutes(app, { ingest });
      registerSchemaRoutes(app, { schemas, records });
    },
  };
}

export type GraphModule = ReturnType<typeof createGraphModule>;
