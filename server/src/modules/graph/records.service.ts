import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { TenantCtx } from '../../platform/context.js';
import type { Database } from '../../platform/db.js';
import { ConflictError, LockedError, NotFoundError } from '../../platform/errors.js';
import type { AuditService } from '../audit/index.js';
import { ingestRepo } from './ingest.repo.js';
import { statusOf, toRunDto, type IngestService } from './ingest.service.js';
import { mapRecord } from './records-mapper.js';
import { compileJsonSchema, describeRecordError, type RecordValidator } from './schema-compile.js';
import { schemaRepo, type SchemaRow } from './schema.repo.js';
import { sourceOf } from './schema.service.js';
import type { Rejection } from './stix/model.js';

/** Records per call: all of them are validated, mapped and imported during the request. */
export const MAX_RECORDS = 5_000;
const VALIDATOR_CACHE = 200;

export type SummitEnv = 'dev' | 'prod';
type Approval = { kind: 'approved' | 'override' | 'unapproved-dev'; overrideId?: string; warnings: string[] };

/** 423: prod ingest against a schema version nobody has approved. The problem body names the schema. */
export class SchemaNotApprovedError extends LockedError {
  override readonly details: Record<string, unknown>;
  constructor(schema: SchemaRow) {
    super(
      `Schema ${schema.name}@${schema.version} (${schema.id}) is not approved, and this server (SUMMIT_ENV=prod) refuses ingest ` +
        `against unapproved schemas. To get it approved, ask a tenant admin (not the submitter) to POST /api/v1/schemas/${schema.id}/approve, ` +
        `or to grant an override with a reason and an expiry: POST /api/v1/schemas/${schema.id}/overrides.`,
    );
    this.details = { schema: { id: schema.id, name: schema.name, version: schema.version, status: schema.status } };
  }
}

/**
 * Ingest of custom-feed records: each record is validated against its schema's JSON Schema and mapped to STIX
 * objects, and the valid ones go through the same import as a STIX bundle (ingestNow), so provenance, merging and
 * the run record work the same. In prod an unapproved schema is refused unless an admin's override is in force.
 */
export function createRecordsService(deps: {
  db: Database;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  ingest: Pick<IngestService, 'ingestNow'>;
  env: SummitEnv;
}) {
  const { db, clock, audit } = deps;
  // A version never changes, so its compiled validator can be kept; bounded, oldest dropped first.
  const validators = new Map<string, RecordValidator>();

  function validatorFor(schema: SchemaRow): RecordValidator {
    const cached = validators.get(schema.id);
    if (cached) return cached;
    const compiled = compileJsonSchema(schema.jsonSchema);
    if (!compiled.ok) throw new ConflictError(`Schema ${schema.name}@${schema.version} no longer compiles (${compiled.problem}); submit a new version.`);
    if (validators.size >= VALIDATOR_CACHE) validators.delete(validators.keys().next().value!);
    validators.set(schema.id, compiled.validate);
    return compiled.validate;
  }

  /** Whether this ingest may run, and the warnings its run must carry. A refusal is audited on its own. */
  async function checkApproval(ctx: TenantCtx, schema: SchemaRow, records: number): Promise<Approval> {
    if (schema.status === 'approved') return { kind: 'approved', warnings: [] };
    const key = `${schema.name}@${schema.version}`;
    if (deps.env === 'dev') {
      return { kind: 'unapproved-dev', warnings: [`schema ${key} is not approved; in prod this ingest would be refused`] };
    }
    const now = clock.now();
    const override = await db.withTenant(ctx.tenantId, (tx) => schemaRepo.activeOverride(tx, ctx.tenantId, schema.id, now));
    if (override) {
      const until = new Date(override.expiresAt).toISOString();
      return {
        kind: 'override',
        overrideId: override.id,
        warnings: [`schema ${key} is not approved; ran under override ${override.id} by ${override.grantedBy} (until ${until}): ${override.reason}`],
      };
    }
    // The request fails, so the refusal is written in a transaction of its own.
    await db.withTenant(ctx.tenantId, (tx) =>
      audit.record(tx, ctx, {
        action: 'ingest.records.blocked',
        target: { type: 'ingest-schema', id: schema.id },
        outcome: 'denied',
        after: { name: schema.name, version: schema.version, status: schema.status, records, reason: 'schema not approved and no override in force' },
      }),
    );
    throw new SchemaNotApprovedError(schema);
  }

  async function ingestRecords(ctx: TenantCtx, input: { schema: string; version: number; records: unknown[] }) {
    const schema = await db.withTenant(ctx.tenantId, (tx) => schemaRepo.findVersion(tx, ctx.tenantId, input.schema, input.version));
    if (!schema) throw new NotFoundError(`Schema ${input.schema}@${input.version}`);
    const approval = await checkApproval(ctx, schema, input.records.length);
    const validate = validatorFor(schema);

    const at = clock.now().toISOString();
    const recordRejections: Rejection[] = [];
    const objects: Record<string, unknown>[] = [];
    const recordOf = new Map<string, number>();
    for (const [index, record] of input.records.entries()) {
      const mapped = validate(record) ? mapRecord(record, schema.mapping, at) : { ok: false as const, reason: describeRecordError(validate.errors) };
      if (!mapped.ok) {
        recordRejections.push({ index, id: null, type: 'record', reason: `record ${index}: ${mapped.reason}` });
        continue;
      }
      for (const object of mapped.objects) if (!recordOf.has(object.id as string)) recordOf.set(object.id as string, index);
      objects.push(...mapped.objects);
    }

    const source = sourceOf(schema);
    const run = await deps.ingest.ingestNow(ctx, { type: 'bundle', id: `bundle--${randomUUID()}`, objects }, source);
    // Objects the import refused (rare: a storage failure) are reported against the record they came from.
    const objectRejections = run.rejections.map((r) => ({ ...r, index: (r.id !== null ? recordOf.get(r.id) : undefined) ?? -1 }));
    const failedRecords = new Set([...recordRejections, ...objectRejections].map((r) => r.index).filter((i) => i >= 0));
    const records = { received: input.records.length, accepted: input.records.length - failedRecords.size, rejected: failedRecords.size };
    const rejected = run.counts.rejected + recordRejections.length;
    const status = statusOf(run.counts.created + run.counts.merged, rejected);

    const stored = await db.withTenant(ctx.tenantId, async (tx) => {
      const rejections = [...recordRejections, ...objectRejections].sort((a, b) => a.index - b.index);
      await schemaRepo.completeRecordsRun(tx, ctx.tenantId, run.id, { rejectedRecords: recordRejections.length, rejections, warnings: approval.warnings, status });
      await audit.record(tx, ctx, {
        action: 'ingest.records',
        target: { type: 'ingest-run', id: run.id },
        outcome: status === 'failed' ? 'failure' : 'success',
        after: { schemaId: schema.id, source, approval: approval.kind, overrideId: approval.overrideId ?? null, status, records, objects: run.counts },
      });
      return (await ingestRepo.get(tx, ctx.tenantId, run.id))!;
    });
    return { ...toRunDto(stored), schemaId: schema.id, records };
  }

  return { ingestRecords };
}

export type RecordsService = ReturnType<typeof createRecordsService>;
