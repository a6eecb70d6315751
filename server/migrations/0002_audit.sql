-- Audit: a per-tenant, hash-chained, append-only event log with signed checkpoints.
create table audit_events (
  tenant_id uuid not null references tenants (id),
  sequence bigint not null,
  id uuid not null,
  occurred_at timestamptz not null,
  actor_type text not null,
  actor_id text not null,
  action text not null,
  target_type text,
  target_id text,
  request_id text,
  outcome text not null,
  before jsonb,
  after jsonb,
  prev_hash text not null,
  hash text not null,
  primary key (tenant_id, sequence),
  constraint audit_outcome_known check (outcome in ('success', 'denied', 'failure'))
);
create index audit_events_action_idx on audit_events (tenant_id, action, sequence);
create index audit_events_actor_idx on audit_events (tenant_id, actor_id, sequence);
create index audit_events_time_idx on audit_events (tenant_id, occurred_at);

-- The head of each tenant's chain. Appends lock this row, which serialises them per tenant (and only per tenant).
create table audit_heads (
  tenant_id uuid primary key references tenants (id),
  sequence bigint not null,
  hash text not null
);

create table audit_checkpoints (
  tenant_id uuid not null references tenants (id),
  sequence bigint not null,
  hash text not null,
  signed_at timestamptz not null,
  key_id text not null,
  signature text not null,
  -- One checkpoint per head per signing key: after a key change the same head can be signed again.
  primary key (tenant_id, sequence, key_id)
);

create function summit_audit_append_only() returns trigger
  language plpgsql
  as $$
begin
  raise exception 'audit_events is append-only: % is not allowed', tg_op
    using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_events_no_update before update or delete on audit_events
  for each row execute function summit_audit_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
  for each statement execute function summit_audit_append_only();

alter table audit_events enable row level security;
create policy tenant_isolation on audit_events
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
alter table audit_heads enable row level security;
create policy tenant_isolation on audit_heads
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
alter table audit_checkpoints enable row level security;
create policy tenant_isolation on audit_checkpoints
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());

-- The application may add to the log, never change it.
grant select, insert on audit_events, audit_checkpoints to summit_app;
grant select, insert, update on audit_heads to summit_app;
