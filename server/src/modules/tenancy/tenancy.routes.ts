import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf, pageQuerySchema } from '../../platform/pagination.js';
import { ctxOf, userCtxOf } from '../../platform/request-context.js';
import {
  createdTenantSchema,
  createdTokenSchema,
  createTenantBody,
  createTokenBody,
  createUserBody,
  idParams,
  listTokensQuery,
  listUsersQuery,
  meSchema,
  tenantSchema,
  tokenSchema,
  updateUserBody,
  userSchema,
} from './tenancy.schemas.js';
import type { TenantService } from './tenant.service.js';
import type { TokenService } from './token.service.js';
import type { UserService } from './user.service.js';

export function registerTenancyRoutes(
  app: FastifyInstance,
  deps: { tenants: TenantService; users: UserService; tokens: TokenService },
) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/api/v1/tenants', {
    config: { action: 'tenant:create' },
    schema: {
      operationId: 'createTenant',
      tags: ['tenants'],
      summary: 'Create a tenant with its first admin (operator only).',
      body: createTenantBody,
      response: { 201: createdTenantSchema },
    },
    handler: async (request, reply) => reply.status(201).send(await deps.tenants.createTenant(ctxOf(request), request.body)),
  });
  r.get('/api/v1/tenants', {
    config: { action: 'tenant:list' },
    schema: {
      operationId: 'listTenants',
      tags: ['tenants'],
      summary: 'List tenants (operator only).',
      querystring: pageQuerySchema,
      response: { 200: pageOf(tenantSchema) },
    },
    handler: async (request) => deps.tenants.listTenants(ctxOf(request), request.query),
  });

  r.get('/api/v1/me', {
    config: { action: 'me:read' },
    schema: {
      operationId: 'getMe',
      tags: ['users'],
      summary: 'The calling user, its tenant and what it may do.',
      response: { 200: meSchema },
    },
    handler: async (request) => deps.users.me(userCtxOf(request)),
  });

  r.post('/api/v1/users', {
    config: { action: 'user:create' },
    schema: { operationId: 'createUser', tags: ['users'], summary: 'Add a user to the tenant.', body: createUserBody, response: { 201: userSchema } },
    handler: async (request, reply) => reply.status(201).send(await deps.users.create(userCtxOf(request), request.body)),
  });
  r.get('/api/v1/users', {
    config: { action: 'user:list' },
    schema: { operationId: 'listUsers', tags: ['users'], summary: 'List the tenant\'s users.', querystring: listUsersQuery, response: { 200: pageOf(userSchema) } },
    handler: async (request) => deps.users.list(userCtxOf(request), request.query),
  });
  r.get('/api/v1/users/:id', {
    config: { action: 'user:read' },
    schema: { operationId: 'getUser', tags: ['users'], summary: 'One user.', params: idParams, response: { 200: userSchema } },
    handler: async (request) => deps.users.get(userCtxOf(request), request.params.id),
  });
  r.patch('/api/v1/users/:id', {
    config: { action: 'user:update' },
    schema: {
      operationId: 'updateUser',
      tags: ['users'],
      summary: 'Change a user\'s e-mail, display name, roles or disabled flag.',
      params: idParams,
      body: updateUserBody,
      response: { 200: userSchema },
    },
    handler: async (request) => deps.users.update(userCtxOf(request), request.params.id, request.body),
  });
  r.delete('/api/v1/users/:id', {
    config: { action: 'user:delete' },
    schema: { operationId: 'deleteUser', tags: ['users'], summary: 'Delete a user and revoke all their tokens.', params: idParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await deps.users.remove(userCtxOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  });

  r.post('/api/v1/tokens', {
    config: { action: 'token:create' },
    schema: {
      operationId: 'createToken',
      tags: ['tokens'],
      summary: 'Create an API token (shown once).',
      body: createTokenBody,
      response: { 201: createdTokenSchema },
    },
    handler: async (request, reply) => reply.status(201).send(await deps.tokens.create(userCtxOf(request), request.body)),
  });
  r.get('/api/v1/tokens', {
    config: { action: 'token:list' },
    schema: {
      operationId: 'listTokens',
      tags: ['tokens'],
      summary: 'List API tokens (never their secrets): admins see all, others their own.',
      querystring: listTokensQuery,
      response: { 200: pageOf(tokenSchema) },
    },
    handler: async (request) => deps.tokens.list(userCtxOf(request), request.query),
  });
  r.delete('/api/v1/tokens/:id', {
    config: { action: 'token:revoke' },
    schema: { operationId: 'revokeToken', tags: ['tokens'], summary: 'Revoke a token at once.', params: idParams, response: { 204: z.null() } },
    handler: async (request, reply) => {
      await deps.tokens.revoke(userCtxOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  });
}
