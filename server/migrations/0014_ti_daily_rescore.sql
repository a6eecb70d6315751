-- Every tenant gets the daily threat-intel rescoring (score decay, suppression expiry) as an ordinary schedule of
-- job type ti.rescore at 03:15 UTC: visible in /api/v1/schedules, and a tenant admin may move or disable it there.
-- Existing tenants get it now; new tenants get it in the transaction that creates them.

create function summit_add_daily_rescore(p_tenant uuid) returns void language sql as $$
  insert into schedules (tenant_id, id, name, job_type, payload, cron, timezone, enabled, catch_up, next_fire_at)
  values (
    p_tenant, gen_random_uuid(), 'Daily threat-intel rescoring', 'ti.rescore', '{}'::jsonb, '15 3 * * *', 'UTC', true,
    'run-once',
    case
      when date_trunc('day', now() at time zone 'UTC') + interval '3 hours 15 minutes' > (now() at time zone 'UTC')
        then (date_trunc('day', now() at time zone 'UTC') + interval '3 hours 15 minutes') at time zone 'UTC'
      else (date_trunc('day', now() at time zone 'UTC') + interval '1 day 3 hours 15 minutes') at time zone 'UTC'
    end
  )
  on conflict do nothing;
$$;

select summit_add_daily_rescore(id) from tenants;

create function summit_tenant_daily_rescore() returns trigger language plpgsql as $$
begin
  perform summit_add_daily_rescore(new.id);
  return new;
end
$$;

create trigger tenants_daily_rescore after insert on tenants
  for each row execute function summit_tenant_daily_rescore();
