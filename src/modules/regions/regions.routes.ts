import type { App } from '../../platform/http.ts';
import type { AppContext } from '../../platform/context.ts';
import { RegionDetail, RegionList, RegionParams, RegionSearchQuery } from './regions.schemas.ts';
import { getChildren, getProvinces, getRegion, searchRegions } from './regions.service.ts';

// Region codes and names are public reference data (GB/T 2260): every signed-in user may browse
// them. Scoping applies to the people and figures attached to regions, not to the tree itself.
export function regionRoutes(app: App, ctx: AppContext): void {
  const errors = { 400: { $ref: 'ErrorEnvelope#' }, 404: { $ref: 'ErrorEnvelope#' } };

  app.get(
    '/regions',
    {
      config: { permission: { all: ['regions.read'] } },
      schema: {
        tags: ['regions'],
        summary: 'Provinces (the roots of the region tree)',
        response: { 200: RegionList },
      },
    },
    async () => ({ items: await getProvinces(ctx.db) }),
  );

  app.get(
    '/regions/search',
    {
      config: { permission: { all: ['regions.read'] } },
      schema: {
        tags: ['regions'],
        summary: 'Search regions by part of the name',
        querystring: RegionSearchQuery,
        response: { 200: RegionList, ...errors },
      },
    },
    async (request) => {
      const { q, within, limit } = request.query;
      return { items: await searchRegions(ctx.db, q, within ?? null, limit ?? 20) };
    },
  );

  app.get(
    '/regions/:code',
    {
      config: { permission: { all: ['regions.read'] } },
      schema: {
        tags: ['regions'],
        summary: 'One region with its path and number of children',
        params: RegionParams,
        response: { 200: RegionDetail, ...errors },
      },
    },
    async (request) => getRegion(ctx.db, request.params.code),
  );

  app.get(
    '/regions/:code/children',
    {
      config: { permission: { all: ['regions.read'] } },
      schema: {
        tags: ['regions'],
        summary: 'The child regions of a region',
        params: RegionParams,
        response: { 200: RegionList, ...errors },
      },
    },
    async (request) => ({ items: await getChildren(ctx.db, request.params.code) }),
  );
}
