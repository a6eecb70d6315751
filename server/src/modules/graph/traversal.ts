import type { Sql } from '../../platform/db.js';
import { relationshipRepo, type Edge } from './relationship.repo.js';

export type Neighbourhood = { nodeIds: string[]; edges: Edge[]; truncated: boolean };

/**
 * Breadth-first neighbourhood of an entity, one query per hop. Bounded: it stops adding nodes at `limit` and says
 * so (`truncated`), rather than letting a hub (a popular C2 address with 50,000 edges) run away with the query.
 */
export async function neighbourhood(
  tx: Sql,
  tenantId: string,
  start: string,
  options: { depth: number; limit: number; relationshipTypes?: string[] },
): Promise<Neighbourhood> {
  const seen = new Set([start]);
  const edges = new Map<string, Edge>();
  let frontier = [start];
  let truncated = false;
  for (let hop = 0; hop < options.depth && frontier.length && !truncated; hop++) {
    // One more than could fit tells whether the hop was cut short.
    const budget = options.limit * 4 + 1;
    const found = await relationshipRepo.edgesAround(tx, tenantId, frontier, options.relationshipTypes, budget);
    if (found.length === budget) truncated = true;
    const next: string[] = [];
    for (const edge of found) {
      for (const node of [edge.sourceId, edge.targetId]) {
        if (seen.has(node)) continue;
        if (seen.size >= options.limit) {
          truncated = true;
          continue;
        }
        seen.add(node);
        next.push(node);
      }
      if (seen.has(edge.sourceId) && seen.has(edge.targetId)) edges.set(edge.id, edge);
    }
    frontier = next;
  }
  return { nodeIds: [...seen], edges: [...edges.values()], truncated };
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
