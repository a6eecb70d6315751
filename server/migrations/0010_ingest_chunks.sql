-- The objects of a large STIX bundle (or of a large records submission) waiting for their ingest job, a few hundred
-- per row, in bundle order. They are written while the upload streams in, before the run exists: the run row, its
-- audit record and its job commit together only once the whole body has parsed, so a body that turns out malformed
-- leaves no run behind. Hence no foreign key to ingest_runs; run_id is the id the run will take. The submitting
-- request deletes its chunks when the body fails; chunks of an interrupted upload (no run after a day) are swept by
-- later submissions. The job deletes a run's chunks when it finishes.
create table ingest_chunks (
  tenant_id uuid not null references tenants (id),
  run_id uuid not null,
  seq integer not null,
  first_index integer not null,
  objects jsonb not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, run_id, seq),
  constraint ingest_chunks_objects_list check (jsonb_typeof(objects) = 'array')
);
create index ingest_chunks_created_idx on ingest_chunks (tenant_id, created_at);

alter table ingest_chunks enable row level security;
create policy tenant_isolation on ingest_chunks
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
grant select, insert, delete on ingest_chunks to summit_app;
