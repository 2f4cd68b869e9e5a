import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '../errors/api-error';
import { AuthService } from './auth.service';
import type { AuthedRequest } from './principal';

const QUERY_TOKEN = 'xray:allowQueryToken';

/** For EventSource routes only (browsers cannot set headers there): accept `?access_token=`. */
export const AllowQueryToken = () => SetMetadata(QUERY_TOKEN, true);

/** `Authorization: Bearer <api key>` on every API v1 route. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthedRequest>();
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const fromQuery =
      this.reflector.getAllAndOverride<boolean>(QUERY_TOKEN, [context.getHandler(), context.getClass()]) &&
      typeof req.query.access_token === 'string'
        ? (req.query.access_token as string)
        : undefined;
    const key = match?.[1] ?? fromQuery;
    if (!key)
      throw new ApiError(401, 'UNAUTHENTICATED', 'Send your API key as `Authorization: Bearer <key>`.', {
        'WWW-Authenticate': 'Bearer',
      });
    const principal = await this.auth.verify(key);
    if (!principal)
      throw new ApiError(401, 'UNAUTHENTICATED', 'The API key is not valid.', {
        'WWW-Authenticate': 'Bearer error="invalid_token"',
      });
    req.principal = principal;
    return true;
  }
}
