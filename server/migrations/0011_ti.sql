-- Threat intel: explainable scores of indicators and observables, suppression rules, warninglists and the
-- suppression ledger, and the enrichment verdicts the scoring model reads (written by the enrichment module).

-- Per-tenant settings. A tenant without a row uses the defaults in modules/ti/scoring-model.ts.
create table ti_settings (
  tenant_id uuid not null references tenants (id),
  -- Scoring model parameters (weights, decay per observable type, …), validated by the service.
  model jsonb not null,
  threshold_high smallint not null,
  threshold_medium smallint not null,
  threshold_low smallint not null,
  threshold_revoke smallint not null,
  suppression_enabled boolean not null default true,
  -- Names of the built-in warninglists (server/data/warninglists) this tenant applies.
  warninglists text[] not null default '{}',
  updated_by uuid,
  updated_at timestamptz not null,
  primary key (tenant_id),
  constraint ti_settings_thresholds_ordered
    check (0 <= threshold_revoke and threshold_revoke < threshold_low and threshold_low < threshold_medium
           and threshold_medium < threshold_high and threshold_high <= 100)
);

-- NATO Admiralty rating of each source (provenance.source), set per tenant.
create table ti_source_ratings (
  tenant_id uuid not null references tenants (id),
  source text not null,
  reliability text not null,
  credibility smallint,
  updated_by uuid,
  updated_at timestamptz not null,
  primary key (tenant_id, source),
  constraint ti_source_ratings_reliability_known check (reliability in ('A', 'B', 'C', 'D', 'E', 'F')),
  constraint ti_source_ratings_credibility_range check (credibility between 1 and 6)
);

-- The current score of each scored entity (indicators and observables), with the inputs the suppression rules
-- match on: the observable an indicator's simple pattern compares (type, value, and the address or host inside
-- it), the asserting sources and the labels. Recomputed in bulk by one statement per batch (scoring.repo.ts).
create table ti_scores (
  tenant_id uuid not null,
  entity_id uuid not null,
  entity_type text not null,
  obs_type text,
  obs_value text,
  obs_inet inet,
  obs_host text,
  sources text[] not null default '{}',
  labels text[] not null default '{}',
  score smallint not null,
  base smallint not null,
  band text not null,
  revoked boolean not null,
  breakdown jsonb not null,
  decay_start timestamptz not null,
  computed_at timestamptz not null,
  primary key (tenant_id, entity_id),
  foreign key (tenant_id, entity_id) references entities (tenant_id, id) on delete cascade,
  constraint ti_scores_score_range check (score between 0 and 100 and base between 0 and 100),
  constraint ti_scores_band_known check (band in ('high', 'medium', 'low', 'none'))
);
create index ti_scores_score_idx on ti_scores (tenant_id, score desc, entity_id desc);
create index ti_scores_observable_idx on ti_scores (tenant_id, obs_type, obs_value);
create index ti_scores_inet_idx on ti_scores using gist (obs_inet inet_ops) where obs_inet is not null;

create table ti_suppression_rules (
  tenant_id uuid not null references tenants (id),
  id uuid not null,
  name text not null,
  action text not null,
  -- Match conditions; every condition given must hold (null: any).
  types text[],
  sources text[],
  labels text[],
  min_score smallint,
  max_score smallint,
  min_age_days integer,
  max_age_days integer,
  value_kind text,
  value_pattern text,
  -- The CIDR of a cidr pattern as inet, so the bulk evaluation never casts another kind's text.
  value_cidr inet,
  reason text not null,
  owner_id uuid not null,
  enabled boolean not null default true,
  expires_at timestamptz,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (tenant_id, id),
  constraint ti_suppression_rules_action_known check (action in ('suppress', 'inform')),
  constraint ti_suppression_rules_value_kind check (value_kind in ('cidr', 'domain-suffix', 'exact', 'regex')),
  constraint ti_suppression_rules_value_pair check ((value_kind is null) = (value_pattern is null)),
  constraint ti_suppression_rules_cidr_pair check ((value_kind = 'cidr') = (value_cidr is not null)),
  constraint ti_suppression_rules_score_range check (min_score between 0 and 100 and max_score between 0 and 100 and min_score <= max_score)
);
create unique index ti_suppression_rules_name_key on ti_suppression_rules (tenant_id, lower(name));

-- Every suppression (or inform flag) as it happened: which entity, matched by which rule or warninglist, when,
-- and when it stopped applying. `matcher` is 'rule:<id>' or 'warninglist:<name>'; an entry is active while
-- cleared_at is null and its rule's expiry (copied into expires_at) has not passed.
create table ti_suppressions (
  tenant_id uuid not null,
  id uuid not null,
  entity_id uuid not null,
  matcher text not null,
  rule_id uuid,
  warninglist text,
  action text not null,
  reason text not null,
  at timestamptz not null,
  expires_at timestamptz,
  cleared_at timestamptz,
  primary key (tenant_id, id),
  foreign key (tenant_id, entity_id) references entities (tenant_id, id) on delete cascade,
  constraint ti_suppressions_action_known check (action in ('suppress', 'inform')),
  constraint ti_suppressions_one_matcher check ((rule_id is null) <> (warninglist is null))
);
create unique index ti_suppressions_active_key on ti_suppressions (tenant_id, entity_id, matcher) where cleared_at is null;
create index ti_suppressions_at_idx on ti_suppressions (tenant_id, at desc, id desc);
create index ti_suppressions_rule_idx on ti_suppressions (tenant_id, rule_id) where cleared_at is null;

-- Verdicts of enrichment providers; the scoring model reads the latest per (entity, provider).
create table ti_enrichment_verdicts (
  tenant_id uuid not null,
  id uuid not null,
  entity_id uuid not null,
  provider text not null,
  verdict text not null,
  details jsonb not null default '{}'::jsonb,
  created_at timestamptz not null,
  primary key (tenant_id, id),
  foreign key (tenant_id, entity_id) references entities (tenant_id, id) on delete cascade,
  constraint ti_enrichment_verdicts_verdict_known check (verdict in ('malicious', 'suspicious', 'benign', 'unknown'))
);
create index ti_enrichment_verdicts_entity_idx on ti_enrichment_verdicts (tenant_id, entity_id, provider, created_at desc);

-- An address observable's value as inet, or null when it is not one. IPv4 is checked by pattern (no exception
-- block, so the bulk path stays cheap); anything else that looks like IPv6 is tried inside an exception block.
create function ti_inet(value text) returns inet
language plpgsql immutable strict parallel safe as $$
begin
  if value ~ '^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(/(3[0-2]|[12]?[0-9]))?$' then
    return value::inet;
  end if;
  if position(':' in value) = 0 or value !~ '^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$' then
    return null;
  end if;
  begin
    return value::inet;
  exception when others then
    return null;
  end;
end
$$;

-- Every domain a host belongs to, itself first: 'a.b.example.com' → {a.b.example.com, b.example.com, example.com, com}.
create function ti_domain_suffixes(host text) returns text[]
language sql immutable strict parallel safe as $$
  select coalesce(array_agg(array_to_string(parts[i:], '.') order by i), '{}')
    from (select string_to_array(host, '.') as parts) p, generate_series(1, coalesce(array_length(parts, 1), 0)) as i
$$;

grant execute on function ti_inet(text) to summit_app;
grant execute on function ti_domain_suffixes(text) to summit_app;

do $$
declare t text;
begin
  foreach t in array array['ti_settings', 'ti_source_ratings', 'ti_scores', 'ti_suppression_rules', 'ti_suppressions',
    'ti_enrichment_verdicts'] loop
    execute format('alter table %I enable row level security', t);
    execute format(
      'create policy tenant_isolation on %I using (tenant_id = summit_current_tenant()) with check (tenant_id = summit_current_tenant())',
      t
    );
    execute format('grant select, insert, update, delete on %I to summit_app', t);
  end loop;
end
$$;
