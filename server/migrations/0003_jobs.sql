-- Jobs: what pg-boss (schema pgboss, created by pg-boss itself at start) does not keep for us.

-- An effect a job applied, keyed by its idempotency key, committed in the same transaction as the effect: a replay
-- or retry of a job whose effect already committed finds the key and skips the effect.
create table job_effects (
  tenant_id uuid not null references tenants (id),
  idempotency_key text not null,
  queue text not null,
  job_id uuid not null,
  applied_at timestamptz not null default now(),
  primary key (tenant_id, idempotency_key)
);

-- Jobs whose retries are spent, or whose error is not worth retrying, with every error on the way.
create table dlq_items (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  queue text not null,
  job_id uuid not null,
  payload jsonb not null,
  attempts integer not null,
  errors jsonb not null,
  idempotency_key text not null,
  status text not null default 'dead',
  replay_count integer not null default 0,
  dead_at timestamptz not null,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint dlq_status_known check (status in ('dead', 'replayed', 'discarded'))
);
create index dlq_items_queue_idx on dlq_items (tenant_id, queue, status, dead_at);

-- Start-time fair queuing across tenants (see platform/jobs/fair-queue.ts): each tenant's next virtual start per
-- queue, and each queue's virtual clock (no tenant data, so no row-level security on it).
create table job_tenant_clock (
  tenant_id uuid not null references tenants (id),
  queue text not null,
  next_vtime bigint not null,
  primary key (tenant_id, queue)
);
create table job_queue_clock (
  queue text primary key,
  vtime bigint not null default 0
);

alter table job_effects enable row level security;
create policy tenant_isolation on job_effects
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
alter table dlq_items enable row level security;
create policy tenant_isolation on dlq_items
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
alter table job_tenant_clock enable row level security;
create policy tenant_isolation on job_tenant_clock
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());

grant select, insert on job_effects to summit_app;
grant select, insert, update on dlq_items to summit_app;
grant select, insert, update on job_tenant_clock to summit_app;
grant select, insert, update on job_queue_clock to summit_app;
