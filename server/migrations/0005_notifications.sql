-- Notifications: where a tenant's alerts go (channels), the alerts themselves (grouped by cause) and the in-app
-- inbox. Webhook deliveries are jobs (queue notifications.webhook), so they live in pg-boss, not here.

create table notification_channels (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  name text not null,
  kind text not null,
  url text,
  -- AES-256-GCM under a key derived from SUMMIT_SECRET, bound to (tenant, channel); never returned by the API.
  secret_sealed text,
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint notification_channels_kind_known check (kind in ('webhook', 'inbox')),
  constraint notification_channels_name_length check (char_length(name) between 1 and 100),
  -- A webhook needs somewhere to post; an inbox has neither a url nor a secret.
  constraint notification_channels_url_matches_kind check ((kind = 'webhook') = (url is not null)),
  constraint notification_channels_secret_webhook_only check (kind = 'webhook' or secret_sealed is null)
);
create unique index notification_channels_name_key on notification_channels (tenant_id, lower(name));

-- One row per incident: repeats of the same cause (group_key) within the grouping window count as occurrences of
-- the open alert instead of new alerts, so a flapping job notifies once, not a hundred times.
create table alerts (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  kind text not null,
  group_key text not null,
  severity text not null,
  title text not null,
  detail text not null,
  data jsonb not null default '{}'::jsonb,
  occurrences integer not null default 1,
  first_seen_at timestamptz not null,
  last_seen_at timestamptz not null,
  closed_at timestamptz,
  primary key (tenant_id, id),
  constraint alerts_kind_known check (kind in ('dlq.item', 'dlq.depth', 'schedule.failing')),
  constraint alerts_severity_known check (severity in ('info', 'warning', 'critical')),
  constraint alerts_occurrences_positive check (occurrences >= 1)
);
-- At most one open alert per cause: two transactions raising the same cause at once cannot both open one.
create unique index alerts_open_group_key on alerts (tenant_id, group_key) where closed_at is null;

-- The inbox: one row each time an alert notifies (when it opens, and when it escalates in severity). Read state is
-- the tenant's, shared by its members.
create table notifications (
  tenant_id uuid not null,
  id uuid not null,
  alert_id uuid not null,
  event text not null,
  severity text not null,
  title text not null,
  detail text not null,
  created_at timestamptz not null,
  read_at timestamptz,
  read_by text,
  primary key (tenant_id, id),
  foreign key (tenant_id, alert_id) references alerts (tenant_id, id),
  constraint notifications_event_known check (event in ('alert.opened', 'alert.escalated'))
);
create index notifications_unread_idx on notifications (tenant_id, id) where read_at is null;
create index notifications_alert_idx on notifications (tenant_id, alert_id);

alter table notification_channels enable row level security;
create policy tenant_isolation on notification_channels
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
alter table alerts enable row level security;
create policy tenant_isolation on alerts
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
alter table notifications enable row level security;
create policy tenant_isolation on notifications
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());

grant select, insert, delete on notification_channels to summit_app;
grant select, insert, update on alerts, notifications to summit_app;
