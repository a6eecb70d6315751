-- IntelGraph: entities (typed after STIX 2.1), relationships, sightings, the provenance of each, and ingest runs.
create table entities (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  -- The first STIX id the entity was known by; every source's own id is kept in provenance.original_id.
  stix_id text not null,
  type text not null,
  -- Canonical value (see modules/graph/stix/canonical.ts): (tenant, type, key) identifies an entity, so a second
  -- source asserting the same observable merges into it.
  key text not null,
  name text not null,
  properties jsonb not null default '{}',
  confidence smallint,
  tlp text,
  first_seen timestamptz,
  last_seen timestamptz,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint entities_confidence_range check (confidence between 0 and 100),
  constraint entities_tlp_known check (tlp in ('clear', 'green', 'amber', 'amber+strict', 'red'))
);
create unique index entities_key on entities (tenant_id, type, key);
create unique index entities_stix_id on entities (tenant_id, stix_id);
create index entities_type_idx on entities (tenant_id, type, id);
create index entities_name_prefix on entities (tenant_id, lower(name) text_pattern_ops);
create index entities_modified_idx on entities (tenant_id, modified_at);

create table relationships (
  tenant_id uuid not null,
  id uuid not null,
  stix_id text not null,
  type text not null,
  source_id uuid not null,
  target_id uuid not null,
  description text,
  confidence smallint,
  tlp text,
  first_seen timestamptz,
  last_seen timestamptz,
  created_at timestamptz not null default now(),
  modified_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, source_id) references entities (tenant_id, id) on delete cascade,
  foreign key (tenant_id, target_id) references entities (tenant_id, id) on delete cascade,
  constraint relationships_confidence_range check (confidence between 0 and 100),
  constraint relationships_not_self check (source_id <> target_id)
);
-- The same assertion from several sources is one relationship with several provenance rows.
create unique index relationships_edge on relationships (tenant_id, type, source_id, target_id);
create unique index relationships_stix_id on relationships (tenant_id, stix_id);
create index relationships_source_idx on relationships (tenant_id, source_id);
create index relationships_target_idx on relationships (tenant_id, target_id);

create table sightings (
  tenant_id uuid not null,
  id uuid not null,
  stix_id text not null,
  entity_id uuid not null,
  count integer not null default 1,
  first_seen timestamptz,
  last_seen timestamptz,
  where_sighted jsonb not null default '[]',
  true_positive boolean,
  confidence smallint,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  foreign key (tenant_id, entity_id) references entities (tenant_id, id) on delete cascade,
  constraint sightings_count_positive check (count >= 1)
);
create unique index sightings_stix_id on sightings (tenant_id, stix_id);
create index sightings_entity_idx on sightings (tenant_id, entity_id);

-- Who asserted what: one row per (subject, source, original id). Subjects are entities, relationships and
-- sightings; deleting a subject deletes its provenance (done by the graph service, in the same transaction).
create table provenance (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  subject_kind text not null,
  subject_id uuid not null,
  source text not null,
  ingest_run_id uuid,
  original_id text,
  confidence smallint,
  asserted_at timestamptz not null,
  primary key (tenant_id, id),
  constraint provenance_subject_kind check (subject_kind in ('entity', 'relationship', 'sighting'))
);
create unique index provenance_assertion on provenance (tenant_id, subject_kind, subject_id, source, coalesce(original_id, ''));
create index provenance_original_idx on provenance (tenant_id, original_id);
create index provenance_source_idx on provenance (tenant_id, source, subject_kind);

create table ingest_runs (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  kind text not null,
  source text not null,
  status text not null default 'queued',
  received integer not null default 0,
  created integer not null default 0,
  merged integer not null default 0,
  rejected integer not null default 0,
  rejections jsonb not null default '[]',
  warnings jsonb not null default '[]',
  error text,
  created_by text not null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  primary key (tenant_id, id),
  constraint ingest_runs_status_known check (status in ('queued', 'running', 'succeeded', 'partial', 'failed'))
);
create index ingest_runs_created_idx on ingest_runs (tenant_id, created_at);

-- A bundle waiting for its ingest job; deleted once processed.
create table ingest_payloads (
  tenant_id uuid not null,
  run_id uuid not null,
  payload jsonb not null,
  primary key (tenant_id, run_id),
  foreign key (tenant_id, run_id) references ingest_runs (tenant_id, id) on delete cascade
);

do $$
declare t text;
begin
  foreach t in array array['entities', 'relationships', 'sightings', 'provenance', 'ingest_runs', 'ingest_payloads'] loop
    execute format('alter table %I enable row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant())',
      t
    );
    execute format('grant select, insert, update, delete on %I to summit_app', t);
  end loop;
end
$$;
