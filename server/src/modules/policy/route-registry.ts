import type { FastifyInstance, RouteOptions } from 'fastify';

export type RouteEntry = { method: string; path: string; action: string | null; public: boolean };

/** `/api/v1/users/:id` → `/api/v1/users/{id}`, as OpenAPI and the coverage report write it. */
export function toOpenApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Collects every route as it is registered and, when the app becomes ready, refuses to start if any route neither
 * names a policy action known to the schema nor says `public: true`. The same list feeds the coverage report and
 * the shared security tests, so a new route is covered by them the moment it exists.
 */
export function createRouteRegistry(knownActions: ReadonlySet<string>) {
  const routes: RouteOptions[] = [];

  function entries(): RouteEntry[] {
    return routes.flatMap((route) => {
      const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
      return methods.map((method) => ({
        method,
        path: toOpenApiPath(route.url),
        action: route.config?.action ?? null,
        public: route.config?.public === true,
      }));
    });
  }

  function problems(): string[] {
    return entries().flatMap((r) => {
      if (r.public && r.action) return [`${r.method} ${r.path} is public and also names action ${r.action}: pick one`];
      if (r.public) return [];
      if (!r.action) return [`${r.method} ${r.path} declares no policy action (config.action) and is not public`];
      if (!knownActions.has(r.action)) return [`${r.method} ${r.path} names action "${r.action}", which policies/schema.cedarschema does not declare`];
      return [];
    });
  }

  return {
    attach(app: FastifyInstance) {
      app.addHook('onRoute', (route) => {
        routes.push(route);
      });
      app.addHook('onReady', async () => {
        const found = problems();
        if (found.length) throw new Error(`Refusing to start: routes without a valid policy declaration:\n  ${found.join('\n  ')}`);
      });
    },
    entries,
  };
}

export type RouteRegistry = ReturnType<typeof createRouteRegistry>;
