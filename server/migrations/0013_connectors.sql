-- Connectors (ServiceNow first): configuration with sealed secrets, sync runs, the keyset cursor per connector, and
-- the ServiceNow records already written to the graph (sys_id + sys_mod_count), which makes re-delivered pages
-- (a resumed run, the inclusive watermark of the next sync) change nothing.

create table connectors (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  kind text not null,
  name text not null,
  -- Everything but secrets (auth type and username are kept; passwords and client secrets are sealed below).
  config jsonb not null,
  secret_sealed text not null,
  schedule_id uuid,
  rate_limit jsonb not null default '{}'::jsonb,
  page_size integer not null,
  created_by uuid not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (tenant_id, id),
  constraint connectors_kind_known check (kind in ('servicenow')),
  constraint connectors_name_length check (char_length(name) between 1 and 100),
  constraint connectors_page_size_range check (page_size between 1 and 10000)
);
create unique index connectors_name_key on connectors (tenant_id, lower(name));

create table connector_runs (
  tenant_id uuid not null,
  id uuid not null,
  connector_id uuid not null,
  status text not null,
  trigger text not null,
  fetched integer not null default 0,
  created integer not null default 0,
  updated integer not null default 0,
  unchanged integer not null default 0,
  failed integer not null default 0,
  pages integer not null default 0,
  error jsonb,
  created_at timestamptz not null,
  started_at timestamptz,
  finished_at timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, connector_id) references connectors (tenant_id, id) on delete cascade,
  constraint connector_runs_status_known check (status in ('queued', 'running', 'succeeded', 'partial', 'failed')),
  constraint connector_runs_trigger_known check (trigger in ('manual', 'schedule'))
);
create index connector_runs_connector_idx on connector_runs (tenant_id, connector_id, id desc);

-- The keyset cursor (see servicenow/keyset-pager.ts) and the watermark it stands for, per connector.
create table connector_cursors (
  tenant_id uuid not null,
  connector_id uuid not null,
  cursor jsonb not null,
  watermark timestamptz,
  last_success_at timestamptz,
  records_synced bigint not null default 0,
  updated_at timestamptz not null,
  primary key (tenant_id, connector_id),
  foreign key (tenant_id, connector_id) references connectors (tenant_id, id) on delete cascade
);

-- One row per ServiceNow record written to the graph: the version written and the entity it became.
create table connector_records (
  tenant_id uuid not null,
  connector_id uuid not null,
  sys_id text not null,
  sys_mod_count integer not null,
  entity_id uuid,
  updated_at timestamptz not null,
  primary key (tenant_id, connector_id, sys_id),
  foreign key (tenant_id, connector_id) references connectors (tenant_id, id) on delete cascade
);

-- Requests to the instance (for health: error rate and P95 latency over the last hour).
create table connector_requests (
  tenant_id uuid not null,
  connector_id uuid not null,
  id uuid not null,
  at timestamptz not null,
  status integer,
  duration_ms integer not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, connector_id) references connectors (tenant_id, id) on delete cascade
);
create index connector_requests_at_idx on connector_requests (tenant_id, connector_id, at);

alter table alerts drop constraint alerts_kind_known;
alter table alerts add constraint alerts_kind_known
  check (kind in ('dlq.item', 'dlq.depth', 'schedule.failing', 'playbook.run.failed', 'playbook.run.delivered', 'ti.budget',
    'connector.failed'));

do $$
declare t text;
begin
  foreach t in array array['connectors', 'connector_runs', 'connector_cursors', 'connector_records', 'connector_requests'] loop
    execute format('alter table %I enable row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant())',
      t
    );
    execute format('grant select, insert, update, delete on %I to summit_app', t);
  end loop;
end
$$;
