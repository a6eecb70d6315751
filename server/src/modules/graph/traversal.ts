import type { Sql } from '../../platform/db.js';
import { entityDtoColumnsSql } from './entity.repo.js';
import { relationshipRepo } from './relationship.repo.js';

export type NeighbourhoodOptions = {
  depth: number;
  /** Most nodes (the start included); beyond it the walk stops and says `truncated`. */
  limit: number;
  relationshipTypes?: string[];
  /** Only nodes of these entity types are returned (the start always is); the walk itself passes through all. */
  types?: string[];
};

/** Edges read per hop: one more than could fit tells whether the hop was cut short. */
export const edgeBudgetFor = (limit: number) => limit * 4 + 1;

/**
 * Breadth-first neighbourhood of an entity as one statement, bounded: each hop reads at most edgeBudgetFor(limit)
 * edges around the frontier and adds unseen nodes in the order the edges came until `limit` nodes are held, so a
 * hub (a popular C2 address with 50,000 edges) cannot run away with the query; `truncated` says when either bound
 * cut the walk, which then stops. An edge is kept when both its ends are held. This is the hop-by-hop walk the
 * service used to run from TypeScript (one query per hop), moved into the database so a request costs one round
 * trip and the edges never cross the wire only to be dropped.
 *
 * The walk's state is one row per hop: the nodes held (seen), the frontier, the kept edges (as parallel arrays of
 * id, type, source and target: no composite type to declare) and whether it was cut. Parameters: $1 tenant,
 * $2 start, $3 depth, $4 limit, $5 edge budget, $6 relationship types (null: all). No row at all when the start is
 * not an entity of the tenant.
 */
const WALK = `
walk (hop, seen, frontier, edge_ids, edge_types, edge_sources, edge_targets, truncated) as (
  select 0, array[e.id], array[e.id], '{}'::uuid[], '{}'::text[], '{}'::uuid[], '{}'::uuid[], false
    from entities e where e.tenant_id = $1 and e.id = $2
  union all
  select w.hop + 1, w.seen || step.added, step.added, w.edge_ids || step.ids, w.edge_types || step.types,
         w.edge_sources || step.sources, w.edge_targets || step.targets, step.truncated
    from walk w
   cross join lateral (
     with found as (
       -- Numbered after the limit, so the numbering cannot make the scan read a hub's every edge.
       select l.*, row_number() over () as n
         from (select r.id, r.type, r.source_id, r.target_id from relationships r
                where r.tenant_id = $1 and (r.source_id = any(w.frontier) or r.target_id = any(w.frontier))
                  and ($6::text[] is null or r.type = any($6::text[]))
                limit $5::int) l
     ),
     held as (select unnest(w.seen) as node),
     ends as (select source_id as node, n * 2 as position from found union all select target_id, n * 2 + 1 from found),
     -- Ends not yet held, each at its first position (an edge's source before its target).
     fresh as (
       select e.node, min(e.position) as position from ends e
        where not exists (select 1 from held h where h.node = e.node)
        group by e.node
     ),
     added as (select node, position from fresh order by position limit greatest($4::int - cardinality(w.seen), 0)),
     members as (select node from held union all select node from added)
     select a.added, k.ids, k.types, k.sources, k.targets,
            (select count(*) from found) = $5::int or (select count(*) from fresh) > $4::int - cardinality(w.seen) as truncated
       from (select coalesce(array_agg(node order by position), '{}') as added from added) a,
            (select coalesce(array_agg(f.id order by f.n), '{}') as ids, coalesce(array_agg(f.type order by f.n), '{}') as types,
                    coalesce(array_agg(f.source_id order by f.n), '{}') as sources, coalesce(array_agg(f.target_id order by f.n), '{}') as targets
               from found f
              where f.source_id in (select node from members) and f.target_id in (select node from members)) k
   ) step
   where w.hop < $3::int and cardinality(w.frontier) > 0 and not w.truncated
),
result as (select * from walk order by hop desc limit 1)`;

/**
 * The neighbourhood response ({rootId, nodes, edges, truncated}, as the route's schema describes it) written by the
 * database as JSON text, or null when the start is not an entity of the tenant. Nodes come in the order the walk
 * met them (the start first), edges likewise; the type filter ($7) drops nodes after the walk and every edge
 * that touches a dropped node.
 */
export async function neighbourhoodJson(tx: Sql, tenantId: string, start: string, options: NeighbourhoodOptions): Promise<string | null> {
  const { rows } = await tx.query<{ body: string }>(
    `with recursive ${WALK},
     kept_nodes as (
       select e.id, n.position, dto
         from result r
        cross join unnest(r.seen) with ordinality n (id, position)
         join entities e on e.tenant_id = $1 and e.id = n.id
        cross join lateral (select ${entityDtoColumnsSql('e')}) dto
        where $7::text[] is null or e.type = any($7::text[]) or e.id = $2
     ),
     kept_edges as (
       -- An edge met on two hops (from each end) once, at its first place.
       select distinct on (x.id) x.id, x.type, x.source_id as "sourceId", x.target_id as "targetId", x.position
         from result r
        cross join unnest(r.edge_ids, r.edge_types, r.edge_sources, r.edge_targets) with ordinality x (id, type, source_id, target_id, position)
        where x.source_id in (select id from kept_nodes) and x.target_id in (select id from kept_nodes)
        order by x.id, x.position
     )
     select json_build_object(
       'rootId', $2::uuid,
       'nodes', (select coalesce(json_agg(n.dto order by n.position), '[]') from kept_nodes n),
       'edges', (select coalesce(json_agg(json_build_object('id', x.id, 'type', x.type, 'sourceId', x."sourceId", 'targetId', x."targetId")
                                          order by x.position), '[]') from kept_edges x),
       'truncated', r.truncated
     )::text as body
       from result r`,
    [tenantId, start, options.depth, options.limit, edgeBudgetFor(options.limit), options.relationshipTypes?.length ? options.relationshipTypes : null, options.types?.length ? options.types : null],
    { name: 'graph_neighbourhood' },
  );
  return rows[0]?.body ?? null;
}

export type Paths = { paths: Array<{ nodeIds: string[]; edgeIds: string[] }>; truncated: boolean };

/**
 * Shortest paths between two entities (edges taken in either direction), breadth-first with every parent kept, so
 * all shortest paths can be listed (up to maxPaths). Gives up at maxDepth or after visiting `budget` nodes.
 */
export async function shortestPaths(
  tx: Sql,
  tenantId: string,
  from: string,
  to: string,
  options: { maxDepth: number; maxPaths: number; budget: number },
): Promise<Paths> {
  if (from === to) return { paths: [{ nodeIds: [from], edgeIds: [] }], truncated: false };
  const parents = new Map<string, Array<{ node: string; edge: string }>>([[from, []]]);
  let frontier = [from];
  let truncated = false;
  let reached = false;
  for (let depth = 0; depth < options.maxDepth && frontier.length && !reached; depth++) {
    const found = await relationshipRepo.edgesAround(tx, tenantId, frontier, undefined, options.budget + 1);
    if (found.length > options.budget) truncated = true;
    const inFrontier = new Set(frontier);
    const level = new Map<string, Array<{ node: string; edge: string }>>();
    for (const edge of found) {
      for (const [here, there] of [[edge.sourceId, edge.targetId], [edge.targetId, edge.sourceId]] as const) {
        if (!inFrontier.has(here) || parents.has(there)) continue;
        level.set(there, [...(level.get(there) ?? []), { node: here, edge: edge.id }]);
      }
    }
    for (const [node, via] of level) parents.set(node, via);
    if (parents.size > options.budget) truncated = true;
    reached = level.has(to);
    frontier = [...level.keys()];
    if (truncated) break;
  }
  if (!parents.has(to)) return { paths: [], truncated };
  const paths: Array<{ nodeIds: string[]; edgeIds: string[] }> = [];
  const walk = (node: string, nodes: string[], edgeIds: string[]) => {
    if (paths.length >= options.maxPaths) return;
    if (node === from) {
      paths.push({ nodeIds: [from, ...nodes], edgeIds });
      return;
    }
    for (const { node: parent, edge } of parents.get(node) ?? []) walk(parent, [node, ...nodes], [edge, ...edgeIds]);
  };
  walk(to, [], []);
  return { paths, truncated };
}
