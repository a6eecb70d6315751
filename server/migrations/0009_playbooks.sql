-- Playbooks: saved, versioned investigations over the graph; who may use them; their runs, share links and
-- exports. Schedules of playbooks are rows of `schedules` (job type playbook.run), fired by the jobs scheduler.

create table playbooks (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  name text not null,
  description text not null default '',
  tags text[] not null default '{}',
  owner_id uuid not null,
  current_version integer not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, owner_id) references users (tenant_id, id),
  constraint playbooks_name_length check (char_length(name) between 1 and 200)
);
create unique index playbooks_name_key on playbooks (tenant_id, lower(name));

-- Every save is a new, immutable version; runs name the version they ran.
create table playbook_versions (
  tenant_id uuid not null,
  playbook_id uuid not null,
  version integer not null,
  definition jsonb not null,
  created_by uuid not null,
  created_at timestamptz not null,
  primary key (tenant_id, playbook_id, version),
  foreign key (tenant_id, playbook_id) references playbooks (tenant_id, id) on delete cascade
);

-- Grants beyond the owner: to one user or to everyone holding a role. Levels are cumulative
-- (admin ⊃ edit ⊃ run ⊃ view); the Cedar policies read them as attributes of the playbook.
create table playbook_grants (
  tenant_id uuid not null,
  playbook_id uuid not null,
  id uuid not null,
  subject_type text not null,
  subject_id text not null,
  permission text not null,
  created_by uuid not null,
  created_at timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, playbook_id) references playbooks (tenant_id, id) on delete cascade,
  constraint playbook_grants_subject_known check (subject_type in ('user', 'role')),
  constraint playbook_grants_permission_known check (permission in ('view', 'run', 'edit', 'admin'))
);
create unique index playbook_grants_subject_key on playbook_grants (tenant_id, playbook_id, subject_type, subject_id);

create table playbook_runs (
  tenant_id uuid not null,
  id uuid not null,
  playbook_id uuid not null,
  version integer not null,
  status text not null,
  trigger text not null,
  requested_by uuid,
  link_id uuid,
  schedule_id uuid,
  params jsonb not null,
  trace jsonb not null default '[]'::jsonb,
  results jsonb,
  error jsonb,
  cancel_requested boolean not null default false,
  created_at timestamptz not null,
  started_at timestamptz,
  finished_at timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, playbook_id, version) references playbook_versions (tenant_id, playbook_id, version) on delete cascade,
  constraint playbook_runs_status_known check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  constraint playbook_runs_trigger_known check (trigger in ('manual', 'schedule', 'link'))
);
create index playbook_runs_playbook_idx on playbook_runs (tenant_id, playbook_id, id desc);
-- Runs per tenant per day (the daily limit) and runs in flight (the concurrency limit).
create index playbook_runs_created_idx on playbook_runs (tenant_id, created_at);
create index playbook_runs_active_idx on playbook_runs (tenant_id) where status in ('queued', 'running');

-- Analysts' notes on a finished run; they go into its exports.
create table run_annotations (
  tenant_id uuid not null,
  id uuid not null,
  run_id uuid not null,
  entity_id uuid,
  text text not null,
  author_id uuid not null,
  created_at timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, run_id) references playbook_runs (tenant_id, id) on delete cascade,
  constraint run_annotations_text_length check (char_length(text) between 1 and 5000)
);
create index run_annotations_run_idx on run_annotations (tenant_id, run_id, created_at);

-- Share links. The token is signed (HMAC under a key derived from SUMMIT_SECRET) and carries its ids; this row
-- is what makes it revocable at once and its expiry authoritative.
create table playbook_links (
  tenant_id uuid not null,
  id uuid not null,
  playbook_id uuid not null,
  run_id uuid,
  permission text not null,
  expires_at timestamptz not null,
  revoked_at timestamptz,
  revoked_by uuid,
  created_by uuid not null,
  created_at timestamptz not null,
  uses integer not null default 0,
  last_used_at timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, playbook_id) references playbooks (tenant_id, id) on delete cascade,
  foreign key (tenant_id, run_id) references playbook_runs (tenant_id, id) on delete cascade,
  constraint playbook_links_permission_known check (permission in ('view-results', 'run'))
);
create index playbook_links_playbook_idx on playbook_links (tenant_id, playbook_id, id desc);

-- Per-tenant settings of playbooks and their exports: limits, branding and redaction rules.
create table playbook_settings (
  tenant_id uuid not null references tenants (id),
  max_concurrent_runs integer not null,
  max_runs_per_day integer not null,
  min_schedule_interval_seconds integer not null,
  max_schedules integer not null,
  branding jsonb not null default '{}'::jsonb,
  logo bytea,
  logo_media_type text,
  updated_by uuid,
  updated_at timestamptz not null,
  primary key (tenant_id),
  constraint playbook_settings_logo_type check (logo is null or logo_media_type in ('image/png', 'image/jpeg'))
);

create table redaction_rules (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  name text not null,
  rule jsonb not null,
  created_by uuid not null,
  created_at timestamptz not null,
  primary key (tenant_id, id)
);
create unique index redaction_rules_name_key on redaction_rules (tenant_id, lower(name));

-- Exports delivered with scheduled runs: the bytes as sent, so what an executive received can be fetched again.
create table run_exports (
  tenant_id uuid not null,
  run_id uuid not null,
  format text not null,
  content bytea not null,
  sha256 text not null,
  created_at timestamptz not null,
  primary key (tenant_id, run_id, format),
  foreign key (tenant_id, run_id) references playbook_runs (tenant_id, id) on delete cascade,
  constraint run_exports_format_known check (format in ('md', 'pdf'))
);

-- Finding a playbook's schedules.
create index schedules_playbook_idx on schedules (tenant_id, (payload ->> 'playbookId')) where job_type = 'playbook.run';

alter table alerts drop constraint alerts_kind_known;
alter table alerts add constraint alerts_kind_known
  check (kind in ('dlq.item', 'dlq.depth', 'schedule.failing', 'playbook.run.failed', 'playbook.run.delivered'));

do $$
declare t text;
begin
  foreach t in array array['playbooks', 'playbook_versions', 'playbook_grants', 'playbook_runs', 'run_annotations',
    'playbook_links', 'playbook_settings', 'redaction_rules', 'run_exports'] loop
    execute format('alter table %I enable row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant())',
      t
    );
    execute format('grant select, insert, update, delete on %I to summit_app', t);
  end loop;
end
$$;
