-- Outbound ServiceNow incidents as jobs (issue 6 "Outbound"): one row per request to create or update the incident
-- of a finding. The row, its audit and the `connector.incident` job commit together; the job settles the row. The
-- correlation_id (derived from tenant and finding key) is what makes a retry or DLQ replay update, never duplicate.

create table connector_outbound_requests (
  tenant_id uuid not null,
  id uuid not null,
  connector_id uuid not null,
  finding_key text not null,
  correlation_id text not null,
  -- What to send: shortDescription, description, priority, entityIds.
  fields jsonb not null,
  -- Who asked: {type: 'api'} or {type: 'playbook', playbookId, runId, stepId}.
  source jsonb not null,
  status text not null,
  job_id uuid not null,
  attempts integer not null default 0,
  sys_id text,
  number text,
  created boolean,
  error jsonb,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, connector_id) references connectors (tenant_id, id) on delete cascade,
  constraint connector_outbound_status_known check (status in ('queued', 'pushed', 'failed'))
);
create index connector_outbound_connector_idx on connector_outbound_requests (tenant_id, connector_id, id desc);

alter table connector_outbound_requests enable row level security;
create policy tenant_isolation on connector_outbound_requests
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
grant select, insert, update, delete on connector_outbound_requests to summit_app;
