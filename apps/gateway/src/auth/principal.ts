import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { ApiKeyKind } from '@xray/db';

/** Who is calling: the API key's client (tenant) and key. */
export interface Principal {
  clientId: string;
  apiKeyId: string;
  kind: ApiKeyKind;
}

export type AuthedRequest = import('express').Request & { principal?: Principal };

export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without ApiKeyGuard');
  return principal;
});
