-- One sync per connector at a time (issue 6): at most one run of a connector is queued or running. A second
-- "sync now" finds the active run instead of starting another, and a scheduled fire while a run is active does
-- nothing. Runs already duplicated before this index existed keep the newest active one; older ones are closed.

update connector_runs r
   set status = 'failed', finished_at = coalesce(r.finished_at, now()),
       error = '{"kind":"superseded","message":"closed when one-active-run-per-connector was introduced"}'::jsonb
 where r.status in ('queued', 'running')
   and exists (select 1 from connector_runs n
                where n.tenant_id = r.tenant_id and n.connector_id = r.connector_id
                  and n.status in ('queued', 'running') and n.id > r.id);

create unique index connector_runs_one_active on connector_runs (tenant_id, connector_id) where status in ('queued', 'running');
