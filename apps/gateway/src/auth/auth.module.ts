import { Global, Module } from '@nestjs/common';
import { ApiKeyGuard } from './api-key.guard';
import { AuthService } from './auth.service';
import { RateLimitGuard } from './rate-limit.guard';

@Global()
@Module({ providers: [AuthService, ApiKeyGuard, RateLimitGuard], exports: [AuthService, ApiKeyGuard, RateLimitGuard] })
export class AuthModule {}
