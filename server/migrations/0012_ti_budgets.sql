-- Threat intel enrichment: providers a tenant configures, monthly budgets per provider, overrides, the usage
-- ledger (every call, reserved then committed), and enrichment jobs. The verdicts themselves go to
-- ti_enrichment_verdicts (0011_ti.sql), which scoring reads.

-- The tenant's budget settings: the time zone its calendar months (and so budget resets) are counted in.
create table ti_budget_settings (
  tenant_id uuid not null references tenants (id),
  time_zone text not null default 'UTC',
  updated_at timestamptz not null default now(),
  primary key (tenant_id)
);

-- HTTP enrichment providers configured by a tenant (the built-in offline provider `local` has no row). The auth
-- header's value is sealed (AES-256-GCM under a key derived from SUMMIT_SECRET), never stored in clear.
create table ti_providers (
  tenant_id uuid not null references tenants (id),
  name text not null,
  kind text not null default 'http',
  base_url text not null,
  auth_header text,
  auth_value_sealed text,
  cost_cents integer not null,
  rate_per_minute integer not null,
  burst integer not null,
  timeout_ms integer not null default 10000,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, name),
  constraint ti_providers_name_shape check (name ~ '^[a-z][a-z0-9-]{1,39}$' and name <> 'local'),
  constraint ti_providers_kind_known check (kind in ('http')),
  constraint ti_providers_cost_nonnegative check (cost_cents >= 0),
  constraint ti_providers_rate_positive check (rate_per_minute >= 1 and burst >= 1),
  constraint ti_providers_timeout_range check (timeout_ms between 100 and 120000)
);

-- A monthly cap per provider; no row means no cap. Money is integer cents.
create table ti_budgets (
  tenant_id uuid not null references tenants (id),
  provider text not null,
  max_calls integer not null,
  max_cost_cents bigint not null,
  updated_by text not null,
  updated_at timestamptz not null default now(),
  primary key (tenant_id, provider),
  constraint ti_budgets_nonnegative check (max_calls >= 0 and max_cost_cents >= 0)
);

-- What a provider has consumed in one month (YYYY-MM in the tenant's time zone). Reservations count against the
-- caps as soon as they are taken, so concurrent workers cannot overshoot; a commit moves one from reserved to used.
-- Reservations lock this row, which serialises them per (tenant, provider, month).
create table ti_budget_usage (
  tenant_id uuid not null references tenants (id),
  provider text not null,
  month text not null,
  calls_reserved integer not null default 0,
  cost_reserved_cents bigint not null default 0,
  calls_used integer not null default 0,
  cost_used_cents bigint not null default 0,
  -- Set when the 80% notification went out: once per budget per month.
  notified_at timestamptz,
  primary key (tenant_id, provider, month),
  constraint ti_budget_usage_month_shape check (month ~ '^\d{4}-(0[1-9]|1[0-2])$'),
  constraint ti_budget_usage_nonnegative check (calls_reserved >= 0 and cost_reserved_cents >= 0 and calls_used >= 0 and cost_used_cents >= 0)
);

-- Extra allowance granted by an admin for one month: extra calls and/or cost, or (with neither) no cap at all until
-- `until`. With `until`, the override ends then; without, at the end of its month.
create table ti_budget_overrides (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  provider text not null,
  month text not null,
  extra_calls integer not null default 0,
  extra_cost_cents bigint not null default 0,
  until timestamptz,
  reason text not null,
  granted_by text not null,
  granted_at timestamptz not null,
  primary key (tenant_id, id),
  constraint ti_budget_overrides_nonnegative check (extra_calls >= 0 and extra_cost_cents >= 0),
  constraint ti_budget_overrides_something check (extra_calls > 0 or extra_cost_cents > 0 or until is not null),
  constraint ti_budget_overrides_reason check (length(reason) between 3 and 1000)
);
create index ti_budget_overrides_month_idx on ti_budget_overrides (tenant_id, provider, month);

-- Enrichment requests, one row per job: which entities, where it stands, and why it waits.
create table ti_enrichment_jobs (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  provider text not null,
  entity_ids uuid[] not null,
  status text not null default 'queued',
  looked_up integer not null default 0,
  wait_until timestamptz,
  wait_reason text,
  error text,
  requested_by text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (tenant_id, id),
  constraint ti_enrichment_jobs_status_known check (status in ('queued', 'running', 'waiting', 'succeeded', 'failed'))
);
create index ti_enrichment_jobs_waiting_idx on ti_enrichment_jobs (tenant_id, provider) where status = 'waiting';

-- The usage ledger: every call to a provider, reserved before the call and settled after it. A job that retries
-- finds its own reservation for the entity (the unique index) instead of taking a second one.
create table ti_usage_ledger (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  provider text not null,
  month text not null,
  job_id uuid not null,
  entity_id uuid not null,
  cost_cents integer not null,
  status text not null default 'reserved',
  verdict text,
  error text,
  reserved_at timestamptz not null,
  settled_at timestamptz,
  primary key (tenant_id, id),
  constraint ti_usage_ledger_status_known check (status in ('reserved', 'committed', 'released')),
  constraint ti_usage_ledger_verdict_known check (verdict in ('malicious', 'suspicious', 'benign', 'unknown'))
);
create unique index ti_usage_ledger_job_entity on ti_usage_ledger (tenant_id, job_id, entity_id);
create index ti_usage_ledger_month_idx on ti_usage_ledger (tenant_id, month, provider, reserved_at);

alter table alerts drop constraint alerts_kind_known;
alter table alerts add constraint alerts_kind_known
  check (kind in ('dlq.item', 'dlq.depth', 'schedule.failing', 'playbook.run.failed', 'playbook.run.delivered', 'ti.budget'));

do $$
declare t text;
begin
  foreach t in array array['ti_budget_settings', 'ti_providers', 'ti_budgets', 'ti_budget_usage', 'ti_budget_overrides',
    'ti_enrichment_jobs', 'ti_usage_ledger'] loop
    execute format('alter table %I enable row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant())',
      t
    );
    execute format('grant select, insert, update, delete on %I to summit_app', t);
  end loop;
end
$$;
