/**
 * What the OpenAPI fuzz suite learns from answers as it goes: ids and names to put in path parameters, members of
 * nested collections (a playbook's grant with its playbook), valid example bodies, and the secrets that no log line
 * (and, but where they are issued, no answer) may carry.
 */
export type FuzzPool = ReturnType<typeof createFuzzPool>;

/** Where objects of a path are made or listed under another path. */
const POOL_ALIASES: Record<string, string[]> = {
  '/api/v1/runs': ['/api/v1/playbooks/{id}/runs'],
  '/api/v1/ti/enrichments': ['/api/v1/ti/enrich'],
  '/api/v1/ti/budgets': ['/api/v1/ti/providers'],
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** `/api/v1/playbooks/<uuid>/grants` → `/api/v1/playbooks/{id}/grants`. */
export const templateOf = (path: string) => path.replace(UUID, '{id}');

export function createFuzzPool(initialSecrets: string[]) {
  /** Known ids and names by the path they were listed or created under. */
  const values = new Map<string, Set<string>>();
  /** Concrete members of nested collections (`/api/v1/playbooks/<id>/grants/<grantId>`) by the collection's template. */
  const members = new Map<string, Set<string>>();
  /** Valid bodies by operation (`POST /api/v1/playbooks`), recorded while seeding. */
  const examples = new Map<string, unknown[]>();
  /** Never in a log line; never in an answer either, but where they are issued. */
  const logSecrets = new Set<string>(initialSecrets);
  const answerSecrets = new Set<string>(initialSecrets);

  const addTo = (map: Map<string, Set<string>>, key: string, value: unknown) => {
    if (typeof value !== 'string' || value === '') return;
    (map.get(key) ?? map.set(key, new Set()).get(key)!).add(value);
  };

  return {
    logSecrets,
    answerSecrets,
    add: (key: string, value: string) => addTo(values, key, value),
    addSecret(secret: string, alsoInAnswers = false) {
      logSecrets.add(secret);
      if (alsoInAnswers) answerSecrets.add(secret);
    },
    addExample: (operation: string, body: unknown) => examples.set(operation, [...(examples.get(operation) ?? []), body]),
    examplesOf: (operation: string) => examples.get(operation) ?? [],
    membersOf: (collection: string) => [...(members.get(collection) ?? [])],

    /** Records what an answer reveals: ids and names, members of the concrete collection it came from, issued tokens. */
    learn(template: string, body: unknown, concrete?: string) {
      if (concrete && body !== null && typeof body === 'object') {
        const top = body as { id?: unknown; items?: Array<{ id?: unknown }> };
        for (const id of [top.id, ...(Array.isArray(top.items) ? top.items.map((i) => i?.id) : [])]) {
          if (typeof id === 'string') addTo(members, template, `${concrete}/${id}`);
        }
      }
      const stack = [body];
      while (stack.length) {
        const value = stack.pop();
        if (value === null || typeof value !== 'object') continue;
        for (const [key, child] of Object.entries(value)) {
          if ((key === 'id' || key.endsWith('Id') || key === 'name') && typeof child === 'string') addTo(values, template, child);
          if (key.endsWith('Ids') && Array.isArray(child)) for (const id of child) addTo(values, template, id);
          if ((key === 'token' || key === 'adminToken') && typeof child === 'string') {
            logSecrets.add(child);
            if (child.startsWith('slk_')) addTo(values, '/api/v1/shared', child);
          }
          if (typeof child === 'object') stack.push(child);
        }
      }
    },

    /** Known values for a path parameter: what was made or listed under the template up to the parameter. */
    knownValues(path: string, param: string): string[] {
      if (param === 'token') return [...(values.get('/api/v1/shared') ?? [])];
      const key = path.slice(0, path.indexOf(`{${param}}`) - 1);
      return [key, ...(POOL_ALIASES[key] ?? [])].flatMap((k) => [...(values.get(k) ?? [])]);
    },
  };
}
