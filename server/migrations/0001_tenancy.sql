-- Tenancy: tenants, users and API tokens, and the non-superuser role every tenant-scoped transaction runs as.
--
-- Roles are cluster-wide in PostgreSQL, so several Summit databases on one server share `summit_app`. Two
-- migrators racing to create it is harmless: the loser's error is swallowed.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'summit_app') then
    create role summit_app nologin;
  end if;
exception when duplicate_object or unique_violation then
  null;
end
$$;

-- A connecting user that is not a superuser needs membership to `set role summit_app`.
do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user) then
    execute format('grant summit_app to %I', current_user);
  end if;
exception when others then
  raise warning 'could not grant summit_app to %: %', current_user, sqlerrm;
end
$$;

grant usage on schema public to summit_app;

-- Resolves the tenant of the current transaction; null (so every policy is false) when none was set.
create or replace function summit_current_tenant() returns uuid
  language sql stable
  as $$ select nullif(current_setting('summit.tenant_id', true), '')::uuid $$;

create table tenants (
  id uuid primary key,
  name text not null,
  created_at timestamptz not null default now(),
  constraint tenants_name_length check (char_length(name) between 1 and 100)
);
create unique index tenants_name_key on tenants (lower(name));

create table users (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  email text not null,
  display_name text,
  roles text[] not null,
  disabled boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, id),
  constraint users_roles_known check (roles <@ array['admin', 'analyst', 'viewer', 'auditor']::text[])
);
create unique index users_email_key on users (tenant_id, lower(email));

create table api_tokens (
  tenant_id uuid not null,
  id uuid not null,
  user_id uuid not null,
  name text not null,
  secret_hash bytea not null,
  created_by uuid,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade
);
-- Token ids are globally unique UUIDs: authentication finds a token by id before it knows the tenant.
create unique index api_tokens_id_key on api_tokens (id);
create index api_tokens_user_idx on api_tokens (tenant_id, user_id);

alter table tenants enable row level security;
create policy tenant_isolation on tenants using (id = summit_current_tenant());
alter table users enable row level security;
create policy tenant_isolation on users
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());
alter table api_tokens enable row level security;
create policy tenant_isolation on api_tokens
  using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant());

grant select on tenants to summit_app;
grant select, insert, update, delete on users, api_tokens to summit_app;
