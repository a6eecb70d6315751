-- Schema registry for custom (non-STIX) feeds: a JSON Schema for the records plus a mapping to graph entities,
-- versioned and immutable once submitted; approvals (four eyes) and time-boxed admin overrides gate prod ingest.
create table ingest_schemas (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  name text not null,
  version integer not null,
  json_schema jsonb not null,
  mapping jsonb not null,
  status text not null default 'pending',
  -- Actor ids (a user id for people): approval compares them, so the submitter cannot approve their own schema.
  submitted_by text not null,
  submitted_at timestamptz not null,
  approved_by text,
  approved_at timestamptz,
  primary key (tenant_id, id),
  constraint ingest_schemas_status_known check (status in ('pending', 'approved')),
  constraint ingest_schemas_version_positive check (version >= 1),
  constraint ingest_schemas_approval_complete check ((status = 'approved') = (approved_by is not null and approved_at is not null))
);
-- A version never changes: a change is a new version, so (tenant, name, version) names one immutable schema.
create unique index ingest_schemas_version_key on ingest_schemas (tenant_id, name, version);
create index ingest_schemas_status_idx on ingest_schemas (tenant_id, status, id);

-- Lets ingest against a not-yet-approved schema through in prod until expires_at; written reason, audited.
create table ingest_schema_overrides (
  tenant_id uuid not null,
  id uuid not null,
  schema_id uuid not null,
  reason text not null,
  expires_at timestamptz not null,
  granted_by text not null,
  granted_at timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, schema_id) references ingest_schemas (tenant_id, id) on delete cascade,
  constraint ingest_schema_overrides_window check (expires_at > granted_at)
);
create index ingest_schema_overrides_schema_idx on ingest_schema_overrides (tenant_id, schema_id, expires_at);

do $$
declare t text;
begin
  foreach t in array array['ingest_schemas', 'ingest_schema_overrides'] loop
    execute format('alter table %I enable row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant())',
      t
    );
  end loop;
end
$$;
-- Versions are immutable and overrides expire rather than disappear: the app may not delete either, and may
-- update only the approval columns of a schema (the JSON Schema, mapping, name and version stay as submitted).
grant select, insert on ingest_schemas to summit_app;
grant update (status, approved_by, approved_at) on ingest_schemas to summit_app;
grant select, insert on ingest_schema_overrides to summit_app;
