-- Schedules (cron + IANA time zone) and per-tenant job limits.
create table schedules (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  name text not null,
  job_type text not null,
  payload jsonb not null default '{}',
  cron text not null,
  timezone text not null,
  enabled boolean not null default true,
  catch_up text not null default 'skip',
  owner_id uuid,
  next_fire_at timestamptz,
  last_fired_at timestamptz,
  consecutive_failures integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint schedules_catch_up_known check (catch_up in ('skip', 'run-once'))
);
create unique index schedules_name_key on schedules (tenant_id, lower(name));
-- The scheduler's only query: what is due, across tenants.
create index schedules_due_idx on schedules (next_fire_at) where enabled;

-- Jobs running now, per tenant and queue, for the per-tenant concurrency limit. A row whose worker died is
-- ignored once older than the job's expiry.
create table job_running (
  tenant_id uuid not null references tenants (id),
  queue text not null,
  job_id uuid not null,
  started_at timestamptz not null default now(),
  primary key (tenant_id, queue, job_id)
);

-- Jobs started per tenant, queue and hour, for the per-tenant hourly limit.
create table job_tenant_starts (
  tenant_id uuid not null references tenants (id),
  queue text not null,
  hour timestamptz not null,
  started integer not null,
  primary key (tenant_id, queue, hour)
);

alter table schedules enable row level security;
create policy tenant_isolation on schedules
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
alter table job_running enable row level security;
create policy tenant_isolation on job_running
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
alter table job_tenant_starts enable row level security;
create policy tenant_isolation on job_tenant_starts
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());

grant select, insert, update, delete on schedules to summit_app;
grant select on job_running, job_tenant_starts to summit_app;
