import type { RequestHandler } from 'express';
import { JsonApiError } from './jsonapi-error';

/** What this reads of Express's router (router 2.x): its layers, and of route layers their path and methods. */
export interface RouterLayers {
  stack: {
    /** Whether the layer's path pattern matches the whole path (false, or what it matched). */
    match(path: string): unknown;
    route?: { path: string; stack: { method?: string }[] };
  }[];
}

/**
 * A method that no route of a known path answers: 405 with Allow (RFC 9110 §15.5.6), instead of the
 * 404 of an unknown path. The routes come from the router as registered, so this knows every
 * slice's routes without naming any. Before the key check: which methods a path has is public.
 */
export function methodNotAllowed(router: () => RouterLayers): RequestHandler {
  return (request, _response, next) => {
    // Most requests are for a route that answers their method: the first such route that matches settles it.
    if (answersMethod(router(), request.method, request.path)) return next();
    const known = routesOf(router(), request.path);
    if (known.length === 0) return next();
    const allowed = new Set(known.flatMap((route) => route.methods));
    // Express answers HEAD with the GET route.
    if (allowed.has('GET')) allowed.add('HEAD');
    if (allowed.has(request.method) || allowed.has(ANY)) return next();
    const methods = [...allowed].sort();
    // The route's pattern, never the path: a client may put anything in a path (an email, say).
    const pattern = known[0].path.replace(/:(\w+)/g, '{$1}');
    return next(
      JsonApiError.of(405, 'method_not_allowed', `${pattern} answers ${methods.join(', ')}; ${request.method} is not one of them`, {
        headers: { Allow: methods.join(', ') },
      }),
    );
  };
}

/** A route handler for every method (`route.all()`) has none. */
const ANY = '*';

function routesOf(router: RouterLayers, path: string): { path: string; methods: string[] }[] {
  return router.stack.flatMap((layer) => {
    if (!layer.route || !matches(layer, path)) return [];
    return [{ path: layer.route.path, methods: layer.route.stack.map((handler) => handler.method?.toUpperCase() ?? ANY) }];
  });
}

function answersMethod(router: RouterLayers, method: string, path: string): boolean {
  const wanted = method === 'HEAD' ? 'get' : method.toLowerCase();
  return router.stack.some(
    (layer) => layer.route?.stack.some((handler) => handler.method === undefined || handler.method === wanted) && matches(layer, path),
  );
}

/** A path that is not valid percent-encoding makes the router throw: no route of ours, then; Nest answers it. */
function matches(layer: RouterLayers['stack'][number], path: string): boolean {
  try {
    return Boolean(layer.match(path));
  } catch {
    return false;
  }
}

/**
 * The route pattern a request was for (`/v1/identity/accounts/:id`), never its path, which may hold
 * anything a client put there (an email, say): for log lines and metric labels. Answered before
 * routing too (401, 405, 415), by asking the router; null for a path no route has.
 */
export function routePatternOf(router: RouterLayers, request: { route?: unknown; path: string }): string | null {
  const matched = (request.route as { path?: unknown } | undefined)?.path;
  if (typeof matched === 'string') return matched;
  return routesOf(router, request.path)[0]?.path ?? null;
}
